namespace Microsoft.ML.DiffNft.Saving;

/// <summary>
/// A DiffNft transformer that saves itself in the package's own format. Every DiffNft transformer implements it, so a
/// saved pipeline (<see cref="DiffNftPipelineFile"/>) stores it as one part, and its public <c>Save(path)</c> writes the
/// same bytes to a file of its own.
/// </summary>
/// <remarks>
/// ML.NET 5 keeps the API that would let third-party transformers join <c>mlContext.Model.Save</c> internal; this
/// interface is the package's replacement. The kind names a loader in <see cref="DiffNftPartKinds"/>.
/// </remarks>
internal interface IDiffNftPersistable
{
    /// <summary>The part kind written to a saved pipeline's manifest (one of <see cref="DiffNftPartKinds"/>).</summary>
    string PersistenceKind { get; }

    /// <summary>
    /// Writes the transformer — its learned state and every option that decides its output — to <paramref name="stream"/>,
    /// which stays open.
    /// </summary>
    void Save(Stream stream);
}
