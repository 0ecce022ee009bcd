using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.Pipeline;

/// <summary>
/// The <c>.stages/</c> folder of a quickstart run: <c>NAME.json</c> marks a finished stage (its fingerprint, time and key
/// numbers), <c>NAME.running.json</c> a started one (its fingerprint and the time spent so far, so a resumed time budget
/// counts the earlier part). Both are written atomically; the done marker is written after every output of the stage.
/// </summary>
internal sealed class StageMarkers
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private readonly string _directory;

    public StageMarkers(string outputDirectory) => _directory = Path.Combine(outputDirectory, ".stages");

    public string DonePath(QuickstartStage stage) => Path.Combine(_directory, QuickstartStages.Name(stage) + ".json");

    public string RunningPath(QuickstartStage stage) => Path.Combine(_directory, QuickstartStages.Name(stage) + ".running.json");

    /// <summary>The finished stage's record when its fingerprint equals <paramref name="fingerprint"/>, else null.</summary>
    public DoneMarker? ReadDone(QuickstartStage stage, string fingerprint)
    {
        var marker = Read<DoneMarker>(DonePath(stage));
        return marker is not null && marker.Fingerprint == fingerprint && marker.Stage == QuickstartStages.Name(stage) ? marker : null;
    }

    /// <summary>The started stage's record (any fingerprint), or null.</summary>
    public RunningMarker? ReadRunning(QuickstartStage stage) => Read<RunningMarker>(RunningPath(stage));

    public void WriteRunning(QuickstartStage stage, RunningMarker marker)
    {
        Directory.CreateDirectory(_directory);
        AtomicFile.WriteAllText(RunningPath(stage), JsonSerializer.Serialize(marker, s_json) + "\n");
    }

    /// <summary>Marks the stage finished (and no longer running).</summary>
    public void WriteDone(QuickstartStage stage, DoneMarker marker)
    {
        Directory.CreateDirectory(_directory);
        AtomicFile.WriteAllText(DonePath(stage), JsonSerializer.Serialize(marker, s_json) + "\n");
        DeleteIfExists(RunningPath(stage));
    }

    /// <summary>Forgets that the stage was finished (it is about to run with other settings).</summary>
    public void ClearDone(QuickstartStage stage) => DeleteIfExists(DonePath(stage));

    /// <summary>Deletes a file if it is there (File.Delete throws when its folder is missing).</summary>
    public static void DeleteIfExists(string path)
    {
        if (File.Exists(path)) File.Delete(path);
    }

    // A marker that cannot be read (an older format, or damaged) only means the stage runs again.
    private static T? Read<T>(string path) where T : class
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllBytes(path), s_json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>A finished stage, as stored in <c>.stages/NAME.json</c>.</summary>
internal sealed record DoneMarker(string Stage, string Fingerprint, double Seconds, DateTime CompletedUtc, string Summary,
    Dictionary<string, double> Numbers);

/// <summary>A started stage, as stored in <c>.stages/NAME.running.json</c>.</summary>
internal sealed record RunningMarker(string Stage, string Fingerprint, double SpentSeconds);
