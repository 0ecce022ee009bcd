using System.Text.Json;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Torch;

namespace Microsoft.ML.DiffNft.Reward;

/// <summary>What <see cref="RewardLoader.Load"/> may need besides the specification.</summary>
internal sealed record RewardLoadOptions
{
    /// <summary>The base diffusion model being fine-tuned (needed by <c>builtin:fidelity</c>; not owned).</summary>
    public DiffusionModel? BaseModel { get; init; }

    /// <summary>
    /// Which output of a rarity reward model becomes the reward: the standardised predicted score (default; linear in
    /// the rarity score and never saturated), or the logit / log of the rare probability.
    /// </summary>
    public RarityRewardKind RarityOutput { get; init; } = RarityRewardKind.ZScore;

    /// <summary>Device for rewards loaded from files.</summary>
    public DiffNftDevice Device { get; init; } = DiffNftDevice.Auto;
}

/// <summary>
/// The one place that turns a reward specification — a reward model file or <c>builtin:NAME</c> — into an
/// <see cref="IImageReward"/>, for the CLI and for applications. Built in: <c>builtin:fidelity</c>
/// (<see cref="DenoisingFidelityReward"/> over the base model). Reward model files are recognised by the format name in
/// their archive's manifest.
/// </summary>
internal static class RewardLoader
{
    /// <summary>The prefix of built-in reward names.</summary>
    public const string BuiltinPrefix = "builtin:";

    /// <summary>The names after <see cref="BuiltinPrefix"/> that <see cref="Load"/> accepts.</summary>
    public static IReadOnlyList<string> BuiltinNames { get; } = new[] { "fidelity" };

    /// <summary>Loads a reward from a file or a built-in name.</summary>
    /// <param name="specification">A reward model file, or <c>builtin:NAME</c>.</param>
    /// <param name="options">What some rewards need (the base model for <c>builtin:fidelity</c>).</param>
    public static IImageReward Load(string specification, RewardLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(specification);
        options ??= new RewardLoadOptions();
        if (specification.StartsWith(BuiltinPrefix, StringComparison.OrdinalIgnoreCase))
            return LoadBuiltin(specification[BuiltinPrefix.Length..].Trim().ToLowerInvariant(), options);
        return LoadFile(specification, options);
    }

    private static IImageReward LoadBuiltin(string name, RewardLoadOptions options)
    {
        switch (name)
        {
            case "fidelity":
                var model = options.BaseModel
                    ?? throw new ArgumentException("builtin:fidelity scores images with the base diffusion model; pass it in RewardLoadOptions.BaseModel.");
                return new DenoisingFidelityReward(model);
            default:
                throw new ArgumentException($"Unknown built-in reward '{BuiltinPrefix}{name}'; built in: {string.Join(", ", BuiltinNames.Select(n => BuiltinPrefix + n))}.");
        }
    }

    private static IImageReward LoadFile(string path, RewardLoadOptions options)
    {
        string format = ReadFormat(path);
        // Reward model formats are added here, one case each.
        if (format == RarityRewardModel.FormatName)
        {
            var rarity = RarityRewardModel.Load(path, options.Device);
            rarity.RewardKind = options.RarityOutput;
            return rarity;
        }
        throw new NotSupportedException(
            $"Reward model format '{format}' of '{path}' is not supported by this build (output {options.RarityOutput} requested); " +
            $"use a reward model file of a supported format or one of {string.Join(", ", BuiltinNames.Select(n => BuiltinPrefix + n))}.");
    }

    /// <summary>The <c>Format</c> named by the archive's JSON manifest, or "unknown" when it names none.</summary>
    internal static string ReadFormat(string path)
    {
        var entries = ModelArchive.Read(path);
        foreach (var (name, bytes) in entries.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            if (name.Contains('/') || !name.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) continue;
            try
            {
                using var doc = JsonDocument.Parse(bytes);
                if (doc.RootElement.ValueKind == JsonValueKind.Object
                    && doc.RootElement.TryGetProperty("Format", out var f) && f.ValueKind == JsonValueKind.String)
                    return f.GetString()!;
            }
            catch (JsonException)
            {
                // Not a manifest; keep looking.
            }
        }
        return "unknown";
    }
}
