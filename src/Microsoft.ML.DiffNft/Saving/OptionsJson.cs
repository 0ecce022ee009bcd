using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Torch;

namespace Microsoft.ML.DiffNft.Saving;

/// <summary>
/// Options records as JSON, for where they outlive the process that made them: a saved transformer's options entry
/// (<see cref="TransformerOptionsEntry"/>) and work sent to a cluster's silos. The records are serialised as they are, so a
/// new option round-trips without a change here. Settings that belong to the process running the work are left out and
/// come from that process: the cancellation token, progress sinks, and the device (a model saved or a job submitted on a
/// GPU machine must load on a CPU one; loading picks <see cref="DiffNftDevice.Auto"/>).
/// </summary>
internal static class OptionsJson
{
    /// <summary>The serializer settings: the model files' own (<see cref="DiffusionModel.JsonOptions"/>) without the run-time settings.</summary>
    public static JsonSerializerOptions Options { get; } = new(DiffusionModel.JsonOptions)
    {
        TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { DropRunTimeSettings } },
    };

    public static string Write<T>(T value) => JsonSerializer.Serialize(value, Options);

    /// <summary>Reads options written by <see cref="Write"/>; <paramref name="what"/> names them in the error.</summary>
    /// <exception cref="InvalidDataException">The JSON is not valid for <typeparamref name="T"/>.</exception>
    public static T Read<T>(string json, string what)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, Options) ?? throw new InvalidDataException($"The {what} are empty.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"The {what} are not valid ({ex.Message}).", ex);
        }
    }

    private static void DropRunTimeSettings(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object) return;
        for (int i = info.Properties.Count - 1; i >= 0; i--)
        {
            var type = info.Properties[i].PropertyType;
            if (type == typeof(CancellationToken) || type == typeof(DiffNftDevice) || type == typeof(DiffNftDevice?)
                || (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IProgress<>)))
                info.Properties.RemoveAt(i);
        }
    }
}
