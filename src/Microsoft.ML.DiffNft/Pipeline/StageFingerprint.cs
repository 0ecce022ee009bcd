using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Microsoft.ML.DiffNft.Pipeline;

/// <summary>
/// The identity of a stage's work: a SHA-256 over the stage name, the settings that shape its outputs and the
/// fingerprints of the stages it reads from. A finished stage with an equal fingerprint is not run again; any change
/// upstream changes every fingerprint downstream, so exactly the affected stages rerun.
/// </summary>
internal static class StageFingerprint
{
    // Settings are described as JSON of the public properties, leaving out what does not shape the result: progress
    // sinks, cancellation tokens and the file paths the pipeline sets itself.
    private static readonly HashSet<string> s_ignoredNames = new(StringComparer.Ordinal)
    {
        "Progress", "CancellationToken", "CheckpointPath", "LogPath", "SampleGridDirectory", "Resume", "ReportEvery",
        "CheckpointEvery", "SampleGridEvery", "SampleGridImagesPerPrompt",
    };

    private static readonly JsonSerializerOptions s_json = CreateOptions(null);

    private static readonly JsonSerializerOptions s_snakeJson = CreateOptions(JsonNamingPolicy.SnakeCaseLower);

    private static JsonSerializerOptions CreateOptions(JsonNamingPolicy? naming) => new()
    {
        WriteIndented = false,
        PropertyNamingPolicy = naming,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver
        {
            Modifiers =
            {
                static info =>
                {
                    if (info.Kind != JsonTypeInfoKind.Object) return;
                    for (int i = info.Properties.Count - 1; i >= 0; i--)
                    {
                        var p = info.Properties[i];
                        var name = (p.AttributeProvider as System.Reflection.MemberInfo)?.Name ?? p.Name;
                        if (s_ignoredNames.Contains(name) || p.PropertyType == typeof(CancellationToken)
                            || (p.PropertyType.IsGenericType && p.PropertyType.GetGenericTypeDefinition() == typeof(IProgress<>)))
                            info.Properties.RemoveAt(i);
                    }
                },
            },
        },
    };

    /// <summary>A settings object as canonical JSON (see the class remarks for what is left out).</summary>
    public static string Describe<T>(T settings) => JsonSerializer.Serialize(settings, s_json);

    /// <summary>The same description as a JSON node with snake_case names, for the report.</summary>
    public static JsonNode? ToNode<T>(T settings) => JsonSerializer.SerializeToNode(settings, s_snakeJson);

    /// <summary>The fingerprint of a stage: hex SHA-256 over its name, its settings and its inputs' fingerprints.</summary>
    public static string Of(QuickstartStage stage, string settings, params string[] inputs)
    {
        var text = new StringBuilder(QuickstartStages.Name(stage)).Append('\n').Append(settings);
        foreach (var input in inputs) text.Append('\n').Append(input);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()))).ToLowerInvariant();
    }

    /// <summary>Hex SHA-256 of a file's bytes (identifies a model file given by path).</summary>
    public static string OfFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }
}
