namespace Microsoft.ML.DiffNft.Pipeline;

/// <summary>
/// The models bundled with the repository and the <c>diffnft</c> tool for the built-in collection
/// (<see cref="Collections.Nouns.BuiltInCollection"/>): a Small base diffusion model and a Small rarity reward model,
/// produced by our own commands with fixed seeds (<c>models/builtin/README.md</c>, <c>scripts/reproduce-bundled-weights.sh</c>).
/// </summary>
public static class BundledModels
{
    /// <summary>The folder, relative to the repository root or to the tool's own folder: <c>models/builtin</c>.</summary>
    public static readonly string RelativeDirectory = Path.Combine("models", "builtin");

    /// <summary>File name of the base diffusion model.</summary>
    public const string BaseModelFileName = "base.diffnft";

    /// <summary>File name of the rarity reward model.</summary>
    public const string RewardModelFileName = "reward.diffnft-reward";

    /// <summary>File name of the reward model's validation metrics.</summary>
    public const string RewardMetricsFileName = "metrics.json";

    /// <summary>Training steps of the bundled base model (Small preset, batch 64, seed 0).</summary>
    public const int BaseTrainingSteps = 1859;

    /// <summary>Step budget of the bundled reward model (Small ViT, seed 0; early stopping ended it there).</summary>
    public const int RewardTrainingSteps = 4300;

    /// <summary>
    /// Finds the folder holding both bundled model files: <paramref name="startDirectory"/> (default: the application's
    /// base directory, where the tool carries a copy) and each folder above it are searched for <c>models/builtin</c>, so
    /// a program run from a clone of the repository also finds the repository's copy. Null when none is found.
    /// </summary>
    /// <param name="startDirectory">Where to start; null for <see cref="AppContext.BaseDirectory"/>.</param>
    public static string? Find(string? startDirectory = null)
    {
        var dir = new DirectoryInfo(Path.GetFullPath(startDirectory ?? AppContext.BaseDirectory));
        for (; dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, RelativeDirectory);
            if (File.Exists(Path.Combine(candidate, BaseModelFileName)) && File.Exists(Path.Combine(candidate, RewardModelFileName)))
                return candidate;
        }
        return null;
    }

    /// <summary>
    /// <see cref="Find"/>, or a <see cref="FileNotFoundException"/> that says where it looked and how to proceed without them.
    /// </summary>
    /// <param name="startDirectory">Where to start; null for <see cref="AppContext.BaseDirectory"/>.</param>
    public static string Require(string? startDirectory = null) =>
        Find(startDirectory) ?? throw new FileNotFoundException(
            $"The bundled models ({RelativeDirectory}/{BaseModelFileName} and {RewardModelFileName}) were not found in " +
            $"'{Path.GetFullPath(startDirectory ?? AppContext.BaseDirectory)}' or any folder above it. Run from a clone of the " +
            "repository, give the folder explicitly, or train both models (set QuickstartOptions.FromScratch).");
}
