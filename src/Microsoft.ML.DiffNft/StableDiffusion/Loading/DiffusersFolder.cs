using System.Text.Json;

namespace Microsoft.ML.DiffNft.StableDiffusion.Loading;

/// <summary>
/// A diffusers pipeline folder (what <c>save_pretrained</c> writes and what the hub serves): <c>model_index.json</c>
/// naming the pipeline class and its components, and one subfolder per component with its <c>config.json</c> and
/// weights. This class finds and checks the files; the module classes own their configurations and
/// <see cref="StateDictLoader"/> reads the weights. Nothing in the folder is ever executed: pickle weights are refused.
/// </summary>
internal sealed class DiffusersFolder
{
    /// <summary>The file every pipeline folder has at its top.</summary>
    public const string ModelIndexFile = "model_index.json";

    private static readonly string[] SingleFileExtensions = [".safetensors", ".ckpt", ".pt", ".pth", ".bin"];

    private readonly Dictionary<string, DiffusersComponent> _components;

    private DiffusersFolder(string path, string className, string? version, Dictionary<string, DiffusersComponent> components)
    {
        Path = path;
        ClassName = className;
        DiffusersVersion = version;
        _components = components;
    }

    /// <summary>The folder, a full path.</summary>
    public string Path { get; }

    /// <summary>The path of its model_index.json.</summary>
    public string ModelIndexPath => System.IO.Path.Combine(Path, ModelIndexFile);

    /// <summary>The pipeline class (<c>_class_name</c>), such as StableDiffusionPipeline.</summary>
    public string ClassName { get; }

    /// <summary>The diffusers version that saved it (<c>_diffusers_version</c>), or null when not recorded.</summary>
    public string? DiffusersVersion { get; }

    /// <summary>The components model_index.json lists, by name, including absent ones (<c>[null, null]</c>).</summary>
    public IReadOnlyDictionary<string, DiffusersComponent> Components => _components;

    /// <summary>
    /// Opens a pipeline folder and reads its model_index.json. A single-file checkpoint (a .safetensors or .ckpt file,
    /// or a folder holding only such files) and a component folder (a config.json without model_index.json) get a
    /// message saying what to pass instead.
    /// </summary>
    /// <param name="path">The pipeline folder (its model_index.json is accepted too).</param>
    public static DiffusersFolder Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = System.IO.Path.GetFullPath(path);
        if (File.Exists(full))
        {
            if (System.IO.Path.GetFileName(full) == ModelIndexFile) return Open(System.IO.Path.GetDirectoryName(full)!);
            if (SingleFileExtensions.Any(e => full.EndsWith(e, StringComparison.OrdinalIgnoreCase))) throw SingleFile(full);
            throw new InvalidDataException($"'{full}' is a file; pass a diffusers pipeline folder (one with {ModelIndexFile}).");
        }
        if (!Directory.Exists(full))
            throw new DirectoryNotFoundException($"Diffusers pipeline folder '{full}' does not exist.");
        string index = System.IO.Path.Combine(full, ModelIndexFile);
        if (!File.Exists(index))
        {
            var files = Directory.EnumerateFiles(full).Select(f => System.IO.Path.GetFileName(f)!).ToList();
            var checkpoints = files.Where(f => SingleFileExtensions.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase))).ToList();
            if (files.Contains("config.json"))
                throw new FileNotFoundException(
                    $"'{full}' has no {ModelIndexFile} but a config.json: it looks like one component of a pipeline; pass the pipeline folder above it.", index);
            if (checkpoints.Count > 0) throw SingleFile(System.IO.Path.Combine(full, checkpoints[0]));
            throw new FileNotFoundException($"'{full}' is not a diffusers pipeline folder: it has no {ModelIndexFile}.", index);
        }
        using var doc = JsonFile.ReadObject(index, "the pipeline's model index");
        var root = doc.RootElement;
        string className = JsonFile.GetString(root, "_class_name", index)
            ?? throw new InvalidDataException($"'{index}' has no '_class_name' (the pipeline class); it is not a diffusers model index.");
        string? version = JsonFile.GetString(root, "_diffusers_version", index);
        var components = new Dictionary<string, DiffusersComponent>(StringComparer.Ordinal);
        foreach (var prop in root.EnumerateObject())
        {
            // Keys starting with "_" are the index's own fields; other non-pair values are pipeline options
            // (requires_safety_checker, …), not components.
            if (prop.Name.StartsWith('_') || prop.Value.ValueKind != JsonValueKind.Array) continue;
            components[prop.Name] = ParseComponent(prop, index);
        }
        return new DiffusersFolder(full, className, version, components);
    }

    /// <summary>The listed, present component <paramref name="name"/>, or an error naming model_index.json.</summary>
    /// <param name="name">A component name such as "unet".</param>
    public DiffusersComponent Component(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!_components.TryGetValue(name, out var c))
            throw new InvalidDataException($"'{ModelIndexPath}' lists no component '{name}' (it lists: {string.Join(", ", _components.Keys.Order(StringComparer.Ordinal))}).");
        if (c.IsAbsent)
            throw new InvalidDataException($"'{ModelIndexPath}' lists component '{name}' as [null, null]: the pipeline was saved without it.");
        return c;
    }

    /// <summary>The folder of component <paramref name="name"/>; it must be listed and exist.</summary>
    /// <param name="name">A component name such as "unet".</param>
    public string ComponentFolder(string name)
    {
        Component(name);
        string folder = System.IO.Path.Combine(Path, name);
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"'{ModelIndexPath}' lists component '{name}', but its folder '{folder}' does not exist (an incomplete download?).");
        return folder;
    }

    /// <summary>
    /// The text of component <paramref name="name"/>'s config.json, checked to be a JSON object; the module classes
    /// parse it into their configurations.
    /// </summary>
    /// <param name="name">A component name such as "unet".</param>
    public string ReadConfigJson(string name)
    {
        string file = System.IO.Path.Combine(ComponentFolder(name), "config.json");
        using var doc = JsonFile.ReadObject(file, $"the configuration of component '{name}'");
        return doc.RootElement.GetRawText();
    }

    /// <summary>
    /// The safetensors weights of component <paramref name="name"/>: <c>{stem}.{variant}.safetensors</c> (or its shard
    /// index) when <paramref name="variant"/> is given and present, else <c>{stem}.safetensors</c> (or its index), where
    /// the stem is diffusion_pytorch_model for diffusers models and model for transformers ones.
    /// </summary>
    /// <param name="name">A component name such as "unet".</param>
    /// <param name="variant">A variant such as "fp16", or null for the plain weights.</param>
    public ComponentWeights FindWeights(string name, string? variant = null)
    {
        string folder = ComponentFolder(name);
        return ComponentWeightsLocator.Find(folder, name, ComponentWeightsLocator.StemFor(_components[name], ModelIndexPath), variant);
    }

    /// <summary>The scheduler configuration (<c>{component}/scheduler_config.json</c>).</summary>
    /// <param name="name">The scheduler component's name.</param>
    public SchedulerConfig ReadSchedulerConfig(string name = "scheduler") =>
        SchedulerConfig.Read(System.IO.Path.Combine(ComponentFolder(name), "scheduler_config.json"));

    /// <summary>The tokenizer's folder (vocab.json, merges.txt, tokenizer_config.json …); the tokenizer reads the files.</summary>
    /// <param name="name">The tokenizer component's name.</param>
    public string TokenizerFolder(string name = "tokenizer") => ComponentFolder(name);

    private static DiffusersComponent ParseComponent(JsonProperty prop, string index)
    {
        // The name becomes a folder name: refuse anything that could point elsewhere.
        if (prop.Name != System.IO.Path.GetFileName(prop.Name) || prop.Name is "." or ".." || prop.Name.Contains('\\'))
            throw new InvalidDataException($"'{index}': component name '{prop.Name}' is not a plain folder name.");
        var v = prop.Value;
        if (v.GetArrayLength() != 2 || v.EnumerateArray().Any(e => e.ValueKind is not (JsonValueKind.String or JsonValueKind.Null)))
            throw JsonFile.WrongKind(index, prop.Name, v, "a [library, class] pair of strings (or [null, null])");
        return new DiffusersComponent(prop.Name, v[0].GetString(), v[1].GetString());
    }

    private static InvalidDataException SingleFile(string file) => new(
        $"'{file}' is a single-file checkpoint; DiffNft loads diffusers pipeline folders (model_index.json and one folder per component). " +
        "Convert it once in Python with diffusers — StableDiffusionPipeline.from_single_file(file).save_pretrained(folder, safe_serialization=True) — " +
        "and pass that folder. DiffNft never opens pickle checkpoints (.ckpt, .bin, .pt): loading one can run arbitrary code.");
}
