using System.CommandLine;
using Microsoft.ML.DiffNft.IO;

namespace DiffNft.Cli.Commands;

/// <summary>
/// The <c>--out</c> of the training commands that write a model and its metrics (<c>train-reward</c>,
/// <c>train-trait-classifier</c>): an existing folder, or a path ending in '/', receives the model under
/// <see cref="ModelFileName"/> and <see cref="MetricsFileName"/> (an output folder: docs/output-folders.md); any other path
/// is the model file itself, and its metrics go beside it as <c>MODEL.metrics.json</c>, a name no other model's metrics
/// can have.
/// </summary>
internal sealed class ModelOutputOption
{
    /// <summary>The metrics file written beside the model when <c>--out</c> is a folder.</summary>
    public const string MetricsFileName = "metrics.json";

    /// <summary>The suffix of the metrics file when <c>--out</c> names the model file.</summary>
    public const string MetricsSuffix = ".metrics.json";

    /// <param name="modelFileName">The model file name used when <c>--out</c> is a folder.</param>
    public ModelOutputOption(string modelFileName)
    {
        ModelFileName = modelFileName;
        Option = new Option<string>("--out")
        {
            Description = $"Where to write. An existing folder, or a path ending in '/', receives {ModelFileName} and {MetricsFileName} " +
                          $"(it must be new, empty or written by this command before, unless --overwrite is given); " +
                          $"any other path is the model file itself, and its metrics are written beside it as OUT{MetricsSuffix}.",
            Required = true,
        };
        Overwrite = OverwriteOption.Create();
    }

    /// <summary>The model file name used when <c>--out</c> is a folder.</summary>
    public string ModelFileName { get; }

    /// <summary>The <c>--out</c> option itself.</summary>
    public Option<string> Option { get; }

    /// <summary>The <c>--overwrite</c> option (for a folder <c>--out</c>).</summary>
    public Option<bool> Overwrite { get; }

    /// <summary>The model and metrics paths for the parsed <c>--out</c>.</summary>
    public (string Model, string Metrics) Resolve(ParseResult parse) => Resolve(parse.GetValue(Option)!);

    /// <summary>The model and metrics paths for an <c>--out</c> value (see the option's description).</summary>
    public (string Model, string Metrics) Resolve(string output)
    {
        if (string.IsNullOrWhiteSpace(output)) throw new ArgumentException("--out must name a file or folder.");
        if (IsFolder(output)) return (Path.Combine(output, ModelFileName), Path.Combine(output, MetricsFileName));
        return (output, output + MetricsSuffix);
    }

    /// <summary>
    /// Resolves, probes and locks the parsed <c>--out</c> before training: a folder is opened as an output folder owned by
    /// <paramref name="command"/>, a file path is probed and locked beside the file.
    /// </summary>
    public ModelOutput Open(ParseResult parse, string command)
    {
        string output = parse.GetValue(Option)!;
        var (model, metrics) = Resolve(output);
        if (!IsFolder(output)) return new ModelOutput(model, metrics, null, OutputFile.Open(model, command));
        var folder = OutputFolder.Open(output, command, parse.GetValue(Overwrite), [ModelFileName, MetricsFileName]);
        return new ModelOutput(Path.Combine(folder.Root, ModelFileName), Path.Combine(folder.Root, MetricsFileName), folder, null);
    }

    private static bool IsFolder(string output) =>
        Directory.Exists(output) || output.EndsWith('/') || output.EndsWith(Path.DirectorySeparatorChar);
}
