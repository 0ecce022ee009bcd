using Microsoft.ML.Runtime;

namespace Microsoft.ML.DiffNft;

/// <summary>
/// Where an unset <c>Seed</c> option (<see cref="Nullable{T}"/> of <see cref="int"/> in every options class) gets its
/// value. Through <c>mlContext.Transforms.DiffNft</c>, from the context's seed, as ML.NET's own trainers do: the
/// estimator's host draws it from its <see cref="IHost.Rand"/>, which <c>new MLContext(seed: s)</c> seeds, so one
/// context seed reproduces a pipeline and another changes it (and <c>new MLContext()</c> differs run to run). Engine
/// classes called directly (<c>DiffusionTrainer</c>, <c>RarityRewardTrainer</c>, <c>DiffusionFineTuner</c>, …) have no
/// context, and use <see cref="EngineDefault"/>.
/// </summary>
internal static class ContextSeed
{
    /// <summary>The seed engine classes use when the option is unset.</summary>
    public const int EngineDefault = 0;

    /// <summary>
    /// The seed an estimator or transformer made from a context uses: <paramref name="seed"/> when set, otherwise the
    /// next draw of <paramref name="host"/>'s random source (non-negative, so it prints and parses like the CLI's seeds).
    /// </summary>
    public static int Resolve(int? seed, IHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        return seed ?? host.Rand.Next();
    }
}
