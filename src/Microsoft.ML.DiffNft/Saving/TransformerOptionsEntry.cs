using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Torch;

namespace Microsoft.ML.DiffNft.Saving;

/// <summary>
/// The options of a torch-backed transformer (column names, generation settings, seed, reward kind), stored as one JSON
/// entry of its model archive so that a reloaded transformer gives exactly the outputs of the saved one.
/// </summary>
/// <remarks>
/// The options records are serialised as they are, so a new option round-trips without a change here. Two kinds of
/// setting are left out because they belong to the process that runs the model, not to the model: the cancellation token
/// and the device (a model saved on a GPU machine must load on a CPU one; loading picks <see cref="DiffNftDevice.Auto"/>).
/// </remarks>
internal static class TransformerOptionsEntry
{
    /// <summary>The entry name inside the model archive.</summary>
    public const string EntryName = "transformer-options.json";

    private static readonly JsonSerializerOptions s_json = new(DiffusionModel.JsonOptions)
    {
        TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { DropRunTimeSettings } },
    };

    /// <summary>The entry's bytes for <paramref name="options"/>.</summary>
    public static byte[] Serialize<T>(T options) where T : class => JsonSerializer.SerializeToUtf8Bytes(options, s_json);

    /// <summary>The options stored in <paramref name="entries"/>, or null when the archive has none (a model file saved alone).</summary>
    /// <exception cref="InvalidDataException">The entry is not valid JSON for <typeparamref name="T"/>; the message names <paramref name="source"/>.</exception>
    public static T? Read<T>(IReadOnlyDictionary<string, byte[]> entries, string source) where T : class
    {
        if (!entries.TryGetValue(EntryName, out var bytes)) return null;
        try
        {
            return JsonSerializer.Deserialize<T>(bytes, s_json) ?? throw new JsonException("The options are null.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Model file '{source}': entry '{EntryName}' is not valid ({ex.Message}).", ex);
        }
    }

    private static void DropRunTimeSettings(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object) return;
        for (int i = info.Properties.Count - 1; i >= 0; i--)
        {
            var type = info.Properties[i].PropertyType;
            if (type == typeof(CancellationToken) || type == typeof(DiffNftDevice)) info.Properties.RemoveAt(i);
        }
    }
}
