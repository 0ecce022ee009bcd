using System.CommandLine;

namespace DiffNft.Cli.Commands;

/// <summary>
/// The <c>--out</c> of the training commands that write a model and its metrics (<c>train-reward</c>,
/// <c>train-trait-classifier</c>): an existing folder, or a path ending in '/', receives the model under
/// <see cref="ModelFileName"/> and <see cref="MetricsFileName"/>; any other path is the model file itself, and the metrics
/// are written in its folder.
/// </summary>
internal sealed class ModelOutputOption
{
    /// <summary>The metrics file written beside the model.</summary>
    public const string MetricsFileName = "metrics.json";

    /// <param name="modelFileName">The model file name used when <c>--out</c> is a folder.</param>
    public ModelOutputOption(string modelFileName)
    {
        ModelFileName = modelFileName;
        Option = new Option<string>("--out")
        {
            Description = $"Where to write. An existing folder, or a path ending in '/', receives {ModelFileName} and {MetricsFileName}; " +
                          $"any other path is the model file itself, and {MetricsFileName} is written in its folder.",
            Required = true,
        };
    }

    /// <summary>The model file name used when <c>--out</c> is a folder.</summary>
    public string ModelFileName { get; }

    /// <summary>The <c>--out</c> option itself.</summary>
    public Option<string> Option { get; }

    /// <summary>The model and metrics paths for the parsed <c>--out</c>.</summary>
    public (string Model, string Metrics) Resolve(ParseResult parse) => Resolve(parse.GetValue(Option)!);

    /// <summary>The model and metrics paths for an <c>--out</c> value (see the option's description).</summary>
    public (string Model, string Metrics) Resolve(string output)
    {
        if (string.IsNullOrWhiteSpace(output)) throw new ArgumentException("--out must name a file or folder.");
        bool folder = Directory.Exists(output) || output.EndsWith('/') || output.EndsWith(Path.DirectorySeparatorChar);
        if (folder) return (Path.Combine(output, ModelFileName), Path.Combine(output, MetricsFileName));
        string dir = Path.GetDirectoryName(Path.GetFullPath(output))!;
        return (output, Path.Combine(dir, MetricsFileName));
    }
}
