using System.Text.Json;

namespace Microsoft.ML.DiffNft.StableDiffusion.Loading;

/// <summary>
/// Finds a component's safetensors weights in its folder the way diffusers and transformers name them, and refuses
/// pickle weights with a message that says how to convert them.
/// </summary>
internal static class ComponentWeightsLocator
{
    /// <summary>The file name stem of weights saved by diffusers models (UNet, VAE).</summary>
    public const string DiffusersStem = "diffusion_pytorch_model";

    /// <summary>The file name stem of weights saved by transformers models (the CLIP text encoder).</summary>
    public const string TransformersStem = "model";

    private static readonly string[] PickleExtensions = [".bin", ".ckpt", ".pt", ".pth", ".pkl"];

    /// <summary>
    /// The weights file stem of a component: from its library in model_index.json (diffusers → diffusion_pytorch_model,
    /// transformers → model), else from its name (unet and vae are diffusers models, text encoders transformers ones).
    /// </summary>
    /// <param name="component">The component.</param>
    /// <param name="modelIndex">model_index.json, for messages.</param>
    public static string StemFor(DiffusersComponent component, string modelIndex) => component.Library switch
    {
        "diffusers" => DiffusersStem,
        "transformers" => TransformersStem,
        _ when component.Name is "unet" or "vae" => DiffusersStem,
        _ when component.Name.StartsWith("text_encoder", StringComparison.Ordinal) => TransformersStem,
        _ => throw new InvalidDataException(
            $"'{modelIndex}': component '{component.Name}' comes from library '{component.Library}'; weights are read for diffusers and transformers components only."),
    };

    /// <summary>
    /// The weights of the component <paramref name="component"/> in <paramref name="folder"/>, preferring, when
    /// <paramref name="variant"/> is given, <c>{stem}.{variant}.safetensors</c> and its shard index, then the plain
    /// <c>{stem}.safetensors</c> and its index.
    /// </summary>
    /// <param name="folder">The component's folder.</param>
    /// <param name="component">The component's name, for messages.</param>
    /// <param name="stem">The weights file stem (<see cref="StemFor"/>).</param>
    /// <param name="variant">A variant such as "fp16", or null.</param>
    public static ComponentWeights Find(string folder, string component, string stem, string? variant)
    {
        if (variant is not null && (variant.Length == 0 || variant.IndexOfAny(['/', '\\', '.']) >= 0))
            throw new ArgumentException($"A weights variant is a plain name such as 'fp16', not '{variant}'.", nameof(variant));
        foreach (var (single, indexes, v) in Candidates(stem, variant))
        {
            string file = Path.Combine(folder, single);
            if (File.Exists(file)) return new ComponentWeights(component, [file], null, null, v);
            foreach (var index in indexes)
            {
                string indexPath = Path.Combine(folder, index);
                if (File.Exists(indexPath)) return ReadIndex(folder, component, indexPath, v);
            }
        }
        throw NoWeights(folder, component, stem, variant);
    }

    /// <summary>The file names tried, in order: the variant's first, then the plain ones.</summary>
    private static IEnumerable<(string Single, string[] Indexes, string? Variant)> Candidates(string stem, string? variant)
    {
        if (variant is not null)
        {
            // Index names: current diffusers/transformers put the variant before ".json"; diffusers' older layout put it
            // before ".index"; some tools write it before ".safetensors".
            yield return ($"{stem}.{variant}.safetensors",
                [$"{stem}.safetensors.index.{variant}.json", $"{stem}.safetensors.{variant}.index.json", $"{stem}.{variant}.safetensors.index.json"],
                variant);
        }
        yield return ($"{stem}.safetensors", [$"{stem}.safetensors.index.json"], null);
    }

    /// <summary>Reads a shard index: every tensor listed once, every shard a plain file name that exists beside the index.</summary>
    private static ComponentWeights ReadIndex(string folder, string component, string indexPath, string? variant)
    {
        string full = Path.GetFullPath(indexPath);
        using var doc = JsonFile.ReadObject(full, $"the shard index of component '{component}'");
        if (!doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"'{full}': a shard index needs a 'weight_map' object (tensor name → shard file).");
        var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
        var files = new List<string>();
        var shardPaths = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in map.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw JsonFile.WrongKind(full, $"weight_map.{entry.Name}", entry.Value, "a shard file name");
            string shard = entry.Value.GetString()!;
            if (!shardPaths.TryGetValue(shard, out var shardPath))
            {
                if (shard.Length == 0 || shard != Path.GetFileName(shard) || shard is "." or ".." || !shard.EndsWith(".safetensors", StringComparison.Ordinal))
                    throw new InvalidDataException($"'{full}': tensor '{entry.Name}' is mapped to '{shard}'; a shard must be a .safetensors file name in the same folder.");
                shardPath = Path.GetFullPath(Path.Combine(folder, shard));
                if (!File.Exists(shardPath))
                    throw new FileNotFoundException($"'{full}' lists shard '{shard}' (for tensor '{entry.Name}'), but '{shardPath}' does not exist: the download is incomplete.", shardPath);
                shardPaths[shard] = shardPath;
                files.Add(shardPath);
            }
            if (!weightMap.TryAdd(entry.Name, shardPath))
                throw new InvalidDataException($"'{full}': tensor '{entry.Name}' is listed twice in 'weight_map'.");
        }
        if (weightMap.Count == 0)
            throw new InvalidDataException($"'{full}': 'weight_map' lists no tensors.");
        files.Sort(StringComparer.Ordinal);
        return new ComponentWeights(component, files, full, weightMap, variant);
    }

    private static Exception NoWeights(string folder, string component, string stem, string? variant)
    {
        string full = Path.GetFullPath(folder);
        var present = Directory.EnumerateFiles(full).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();
        var pickles = present.Where(f => PickleExtensions.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase))).ToList();
        string tried = variant is null ? $"'{stem}.safetensors'" : $"'{stem}.{variant}.safetensors' or '{stem}.safetensors'";
        if (pickles.Count > 0)
            return new InvalidDataException(
                $"Component '{component}' in '{full}' has its weights only as pickle files ({string.Join(", ", pickles.Take(5))}). " +
                "DiffNft never opens pickle files (.bin, .ckpt, .pt): loading one can run arbitrary code. Convert the pipeline once in Python " +
                "with diffusers — DiffusionPipeline.from_pretrained(folder).save_pretrained(new_folder, safe_serialization=True) — and pass the new folder.");
        var others = present.Where(f => f.EndsWith(".safetensors", StringComparison.Ordinal)).ToList();
        string hint = others.Count > 0
            ? $" It has {string.Join(", ", others.Take(5))}" + (variant is null ? ": ask for their variant (such as fp16)." : ".")
            : " It has no .safetensors file: the download may be incomplete.";
        return new FileNotFoundException($"Component '{component}' in '{full}' has no weights: looked for {tried} and its shard index.{hint}");
    }
}
