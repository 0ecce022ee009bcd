using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Microsoft.ML.DiffNft.Cluster;

/// <summary>
/// Options records (fine-tuning, sweep, generation) as JSON for the trip to another silo: every plain setting travels, while
/// what belongs to the submitting process — progress sinks and cancellation tokens — is left out and supplied again on
/// the silo that runs the work.
/// </summary>
internal static class OptionsJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { DropProcessLocal } },
    };

    public static string Write<T>(T value) => JsonSerializer.Serialize(value, Options);

    /// <summary>Reads options written by <see cref="Write"/>; <paramref name="what"/> names them in the error.</summary>
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

    private static void DropProcessLocal(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object) return;
        for (int i = info.Properties.Count - 1; i >= 0; i--)
        {
            var type = info.Properties[i].PropertyType;
            if (type == typeof(CancellationToken) || (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IProgress<>)))
                info.Properties.RemoveAt(i);
        }
    }
}
