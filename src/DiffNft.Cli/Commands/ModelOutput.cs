using Microsoft.ML.DiffNft.IO;

namespace DiffNft.Cli.Commands;

/// <summary>A model output opened by <see cref="ModelOutputOption.Open"/>: where to write, and the lock held until disposed.</summary>
internal sealed class ModelOutput(string model, string metrics, OutputFolder? folder, IDisposable? fileLock) : IDisposable
{
    /// <summary>The model file.</summary>
    public string Model { get; } = model;

    /// <summary>The metrics file.</summary>
    public string Metrics { get; } = metrics;

    /// <summary>Call before the model is written (records the run in a folder's marker).</summary>
    public void Begin() => folder?.Begin([ModelFileName, MetricsFileName]);

    /// <summary>Call after the metrics are written.</summary>
    public void Complete() => folder?.Complete([ModelFileName, MetricsFileName]);

    /// <summary>Releases the lock.</summary>
    public void Dispose()
    {
        folder?.Dispose();
        fileLock?.Dispose();
    }

    private string ModelFileName => Path.GetFileName(Model);

    private static string MetricsFileName => ModelOutputOption.MetricsFileName;
}
