using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.StableDiffusion.Loading;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion;

/// <summary>
/// A UNet LoRA adapter in the file layout diffusers' <c>load_lora_weights</c> reads and <c>save_lora_weights</c>
/// writes: safetensors with <c>unet.{layer}.lora.down.weight</c> [r, in] and <c>unet.{layer}.lora.up.weight</c>
/// [out, r] per adapted linear layer, metadata <c>format: pt</c>, and no α — diffusers applies up·down at scale 1, so
/// our α/r is folded into the up weights on export.
/// </summary>
internal static class DiffusersLoraFile
{
    private const string Prefix = "unet.";
    private const string DownSuffix = ".lora.down.weight";
    private const string UpSuffix = ".lora.up.weight";

    /// <summary>Writes <paramref name="adapter"/> atomically to <paramref name="path"/>.</summary>
    public static void Save(string path, LoraAdapter adapter)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(adapter);
        var layers = adapter.ExportWeights();
        try
        {
            var tensors = layers.SelectMany(l => new[]
            {
                KeyValuePair.Create(Prefix + l.Layer + DownSuffix, l.Down),
                KeyValuePair.Create(Prefix + l.Layer + UpSuffix, l.Up),
            });
            SafeTensorsWriter.Write(path, tensors, SafeTensorsDType.F32, new Dictionary<string, string> { ["format"] = "pt" });
        }
        finally
        {
            foreach (var (_, down, up) in layers)
            {
                down.Dispose();
                up.Dispose();
            }
        }
    }

    /// <summary>
    /// Reads an adapter file: layer name → (down, up) as CPU float32 tensors owned by the caller. Every tensor must be
    /// a <c>unet.</c> LoRA down or up weight, each layer must have both, and all must share one rank.
    /// </summary>
    public static Dictionary<string, (Tensor Down, Tensor Up)> Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"The LoRA file '{path}' does not exist.", path);
        using var file = SafeTensorsFile.Open(path);
        var downs = new Dictionary<string, string>(StringComparer.Ordinal);
        var ups = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var e in file.Entries)
        {
            if (e.Name.StartsWith("text_encoder.", StringComparison.Ordinal))
                throw new NotSupportedException($"'{path}' adapts the text encoder ('{e.Name}'); only UNet adapters are supported.");
            if (!e.Name.StartsWith(Prefix, StringComparison.Ordinal))
                throw new InvalidDataException($"'{path}': tensor '{e.Name}' is not a diffusers UNet LoRA weight (expected 'unet.<layer>{DownSuffix}' or '…{UpSuffix}'; files in the older '.processor.to_q_lora' naming or kohya's naming are not read).");
            if (e.Name.EndsWith(DownSuffix, StringComparison.Ordinal)) downs[e.Name[Prefix.Length..^DownSuffix.Length]] = e.Name;
            else if (e.Name.EndsWith(UpSuffix, StringComparison.Ordinal)) ups[e.Name[Prefix.Length..^UpSuffix.Length]] = e.Name;
            else throw new InvalidDataException($"'{path}': tensor '{e.Name}' is neither a '{DownSuffix}' nor a '{UpSuffix}' weight.");
        }
        foreach (var layer in downs.Keys.Union(ups.Keys))
            if (!downs.ContainsKey(layer) || !ups.ContainsKey(layer))
                throw new InvalidDataException($"'{path}': LoRA layer '{layer}' has {(downs.ContainsKey(layer) ? "no up" : "no down")} weight.");
        var result = new Dictionary<string, (Tensor Down, Tensor Up)>(StringComparer.Ordinal);
        try
        {
            foreach (var (layer, downName) in downs.OrderBy(d => d.Key, StringComparer.Ordinal))
            {
                var down = file.Read(downName, ScalarType.Float32);
                var up = file.Read(ups[layer], ScalarType.Float32);
                result[layer] = (down, up);
                if (down.dim() != 2 || up.dim() != 2 || up.shape[1] != down.shape[0])
                    throw new InvalidDataException($"'{path}': LoRA layer '{layer}' has down [{string.Join(", ", down.shape)}] and up [{string.Join(", ", up.shape)}], not [r, in] and [out, r].");
                if (down.shape[0] != result.First().Value.Down.shape[0])
                    throw new InvalidDataException($"'{path}': LoRA layer '{layer}' has rank {down.shape[0]}, the others {result.First().Value.Down.shape[0]}.");
            }
        }
        catch
        {
            foreach (var (d, u) in result.Values) { d.Dispose(); u.Dispose(); }
            throw;
        }
        return result;
    }

    /// <summary>Reads an adapter file and attaches it to <paramref name="model"/>'s UNet; the caller disposes the adapter.</summary>
    public static LoraAdapter Attach(StableDiffusionModel model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        var layers = Read(path);
        try
        {
            return LoraAdapter.AttachWeights(model.UNet, layers, path);
        }
        finally
        {
            foreach (var (d, u) in layers.Values) { d.Dispose(); u.Dispose(); }
        }
    }
}
