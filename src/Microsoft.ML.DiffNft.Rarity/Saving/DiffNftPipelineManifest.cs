namespace Microsoft.ML.DiffNft.Saving;

/// <summary>
/// The manifest of a saved pipeline (entry <see cref="EntryName"/>): the format, its version, the entry holding the input
/// schema, and the transformers in order, each with its kind, its entry and the SHA-256 of that entry.
/// </summary>
internal sealed record DiffNftPipelineManifest(string? Format, int Version, DiffNftPipelineEntry? InputSchema, List<DiffNftPipelinePart>? Parts)
{
    /// <summary>The manifest's entry name.</summary>
    public const string EntryName = "diffnft-pipeline.json";

    /// <summary>The value of <see cref="Format"/>.</summary>
    public const string FormatName = "Microsoft.ML.DiffNft.Pipeline";

    /// <summary>The version this build writes and reads.</summary>
    public const int FormatVersion = 1;
}

/// <summary>An entry of a saved pipeline and the lower-case hex SHA-256 of its bytes.</summary>
internal sealed record DiffNftPipelineEntry(string? Entry, string? Sha256);

/// <summary>One part of a saved pipeline: a run of ML.NET transformers or one DiffNft transformer.</summary>
internal sealed record DiffNftPipelinePart(string? Kind, string? Entry, string? Sha256);
