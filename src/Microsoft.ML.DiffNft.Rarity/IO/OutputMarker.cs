using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.IO;

/// <summary>
/// The owner marker of an output folder, <c>.diffnft-output</c> (JSON; no .json extension, so that collection and image
/// loaders never take it for metadata): which diffnft command owns the folder, whether its last run finished, and the
/// files that run wrote, relative to the folder with '/' separators. A command that owns a whole tree of its own (the
/// quickstart, a sweep) records no file list.
/// </summary>
/// <param name="Command">The command that owns the folder, e.g. "generate".</param>
/// <param name="State"><see cref="Running"/> while a run writes (and after one that stopped early), else <see cref="Complete"/>.</param>
/// <param name="Pid">The process id of the last run.</param>
/// <param name="Started">When the last run started (UTC).</param>
/// <param name="Finished">When it finished (UTC), or null while it runs.</param>
/// <param name="Files">The files the last run wrote (while it runs: also those it is about to write and the earlier run's); null when the command owns the whole folder.</param>
internal sealed record OutputMarker(string Command, string State, int Pid, DateTime Started, DateTime? Finished, IReadOnlyList<string>? Files)
{
    /// <summary>The marker's file name.</summary>
    public const string FileName = ".diffnft-output";

    /// <summary>The state of a run that is writing, or stopped before it finished.</summary>
    public const string Running = "running";

    /// <summary>The state after a run finished.</summary>
    public const string Complete = "complete";

    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>True when the last run finished.</summary>
    [JsonIgnore]
    public bool IsComplete => State == Complete;

    /// <summary>The marker of <paramref name="directory"/>, or null when it has none.</summary>
    /// <exception cref="InvalidDataException">The marker is not one diffnft wrote (the message names it).</exception>
    public static OutputMarker? Read(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) return null;
        OutputMarker? marker;
        try
        {
            marker = JsonSerializer.Deserialize<OutputMarker>(File.ReadAllBytes(path), s_json);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Output marker '{path}' is not valid JSON ({ex.Message.ReplaceLineEndings(" ")}); delete it, or write to another folder.", ex);
        }
        if (marker is null || string.IsNullOrWhiteSpace(marker.Command) || marker.State is not (Running or Complete)
            || marker.Files?.Any(f => string.IsNullOrEmpty(f) || !IsInside(f)) == true)
            throw new InvalidDataException($"Output marker '{path}' is not one diffnft wrote (expected a command, a state and files inside the folder); delete it, or write to another folder.");
        return marker;
    }

    /// <summary>Writes the marker into <paramref name="directory"/> (atomically).</summary>
    public void Write(string directory) =>
        AtomicFile.WriteAllText(Path.Combine(directory, FileName), JsonSerializer.Serialize(this, s_json) + "\n");

    /// <summary>
    /// The files an image reader should take from <paramref name="directory"/>: those the last run of the command that owns
    /// it wrote, as full paths; null when the folder has no marker or its command records no file list.
    /// </summary>
    /// <exception cref="InvalidDataException">The folder's last run is still writing it, or stopped before it finished (its files may be a mix of two runs).</exception>
    public static IReadOnlyList<string>? WrittenFiles(string directory)
    {
        string full = Path.GetFullPath(directory);
        var marker = Read(full);
        if (marker?.Files is null) return null;
        if (!marker.IsComplete && OutputLock.IsHeld(Path.Combine(full, OutputFolder.LockFileName), out string holder))
            throw new InvalidDataException(
                $"'{full}' is being written by a 'diffnft {marker.Command}' run that has not finished ({holder}); read it when that run is done.");
        if (!marker.IsComplete)
            throw new InvalidDataException(
                $"'{full}' holds the output of a 'diffnft {marker.Command}' run that stopped before it finished (started {marker.Started:yyyy-MM-dd HH:mm:ss}Z, pid {marker.Pid}): " +
                $"its files may be a mix of two runs. Rerun 'diffnft {marker.Command}' into it, and read it once that finishes.");
        return marker.Files.Select(f => Path.GetFullPath(Path.Combine(full, f))).ToList();
    }

    /// <summary>True for a relative path that stays inside the folder.</summary>
    public static bool IsInside(string relative) =>
        !Path.IsPathRooted(relative) && !relative.Split('/', '\\').Any(part => part is ".." or "");
}
