using Microsoft.ML.Runtime;

namespace Microsoft.ML.DiffNft.Saving;

/// <summary>Rebuilds a transformer from the bytes its <see cref="IDiffNftPersistable.Save"/> wrote.</summary>
/// <remarks>Implementations need a parameterless constructor: <see cref="DiffNftPartKinds"/> creates them by type name.</remarks>
internal interface IDiffNftPartLoader
{
    /// <summary>Loads one part.</summary>
    /// <param name="env">The ML.NET environment the transformer will belong to.</param>
    /// <param name="bytes">The part, as saved.</param>
    /// <param name="source">The file (and entry) the bytes came from, for error messages.</param>
    /// <exception cref="InvalidDataException">The bytes are not a valid part of this kind; the message names <paramref name="source"/>.</exception>
    ITransformer Load(IHostEnvironment env, byte[] bytes, string source);
}
