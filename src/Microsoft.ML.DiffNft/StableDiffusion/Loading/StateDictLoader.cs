using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Loading;

/// <summary>
/// Loads safetensors weights into a TorchSharp module whose state-dict names are those of the file (the Stable
/// Diffusion modules use diffusers' and transformers' names). Everything is checked before anything is copied: every
/// parameter and persistent buffer must have exactly one tensor in the files, of the same shape and a loadable dtype,
/// and the files may hold nothing else; otherwise one <see cref="InvalidDataException"/> lists the problems with the
/// files and the shapes. Then each tensor is read from disk straight into the module's existing parameter, under
/// no_grad, one piece at a time — loading a 3.4 GB UNet never holds a second copy of it in memory.
/// </summary>
internal static class StateDictLoader
{
    /// <summary>
    /// Loads a component's weights (<see cref="DiffusersFolder.FindWeights"/>) into <paramref name="module"/>; for
    /// sharded weights the shards must also agree with the index: every tensor in the shard the index names.
    /// </summary>
    /// <param name="module">The module, built from the component's config, on the device and in the dtype wanted.</param>
    /// <param name="weights">The component's weight files.</param>
    /// <param name="options">Name mapping and optional tensors; null for exact names.</param>
    /// <exception cref="InvalidDataException">
    /// The files do not match the module (nothing was copied), or a value is not finite (the module then holds a
    /// partial load and must be discarded).
    /// </exception>
    public static StateDictLoadResult LoadInto(nn.Module module, ComponentWeights weights, StateDictLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return Load(module, weights.Files, weights.WeightMap, weights.Describe, options ?? new StateDictLoadOptions());
    }

    /// <summary>Loads the tensors of one or more safetensors files into <paramref name="module"/>; see the other overload.</summary>
    /// <param name="module">The module.</param>
    /// <param name="files">The safetensors files; together they must hold each of the module's tensors once.</param>
    /// <param name="options">Name mapping and optional tensors; null for exact names.</param>
    public static StateDictLoadResult LoadInto(nn.Module module, IReadOnlyList<string> files, StateDictLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (files.Count == 0) throw new ArgumentException("At least one safetensors file is needed.", nameof(files));
        return Load(module, files, null, files.Count == 1 ? Path.GetFullPath(files[0]) : $"{files.Count} files in '{Path.GetDirectoryName(Path.GetFullPath(files[0]))}'",
            options ?? new StateDictLoadOptions());
    }

    private static StateDictLoadResult Load(nn.Module module, IReadOnlyList<string> paths, IReadOnlyDictionary<string, string>? weightMap,
        string describe, StateDictLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(module);
        var files = new List<SafeTensorsFile>();
        try
        {
            foreach (var p in paths) files.Add(SafeTensorsFile.Open(p));
            var plan = Match(module, files, weightMap, options, describe);
            long bytes = 0;
            try
            {
                foreach (var file in files)
                    foreach (var entry in file.Entries)   // in offset order: the file is read front to back
                    {
                        if (!plan.Targets.TryGetValue(entry, out var target)) continue;
                        file.CopyTo(entry, target);
                        bytes += entry.End - entry.Begin;
                    }
            }
            catch (InvalidDataException ex)
            {
                throw new InvalidDataException($"{ex.Message} The model's weights were partly replaced; discard it.", ex);
            }
            return new StateDictLoadResult(plan.Targets.Count, bytes, plan.KeptOwn, plan.Skipped);
        }
        finally
        {
            foreach (var f in files) f.Dispose();
        }
    }

    /// <summary>The checked pairing of file tensors with module tensors.</summary>
    private sealed record Plan(Dictionary<SafeTensorsEntry, Tensor> Targets, List<string> KeptOwn, List<string> Skipped);

    private static Plan Match(nn.Module module, List<SafeTensorsFile> files, IReadOnlyDictionary<string, string>? weightMap,
        StateDictLoadOptions options, string describe)
    {
        var problems = new List<string>();
        var skipped = new List<string>();
        var sources = new Dictionary<string, (SafeTensorsFile File, SafeTensorsEntry Entry)>(StringComparer.Ordinal);
        foreach (var file in files)
            foreach (var entry in file.Entries)
            {
                if (weightMap is not null && (!weightMap.TryGetValue(entry.Name, out var listed) || listed != file.Path))
                    problems.Add(listed is null
                        ? $"tensor '{entry.Name}' in '{file.Path}' is not in the shard index"
                        : $"tensor '{entry.Name}' is in '{file.Path}' but the shard index places it in '{listed}'");
                string? name = options.MapName(entry.Name);
                if (name is null)
                {
                    skipped.Add(entry.Name);
                    continue;
                }
                if (sources.TryGetValue(name, out var first))
                    problems.Add($"tensor '{name}' is given twice: as '{first.Entry.Name}' in '{first.File.Path}' and as '{entry.Name}' in '{file.Path}'");
                else
                    sources[name] = (file, entry);
            }
        if (weightMap is not null)
            foreach (var (name, shard) in weightMap)
            {
                var file = files.FirstOrDefault(f => f.Path == shard);
                if (file is not null && !file.TryGetEntry(name, out _))
                    problems.Add($"the shard index places tensor '{name}' in '{shard}', which does not hold it");
            }

        var targets = new Dictionary<SafeTensorsEntry, Tensor>(ReferenceEqualityComparer.Instance);
        var keptOwn = new List<string>();
        var expected = module.state_dict();
        foreach (var (name, tensor) in expected)
        {
            if (!sources.TryGetValue(name, out var source))
            {
                if (options.Optional.Contains(name)) keptOwn.Add(name);
                else problems.Add($"missing tensor '{name}' (the model expects shape {SafeTensorsFile.Shape(tensor.shape)})");
                continue;
            }
            var (file, entry) = source;
            string label = entry.Name == name ? $"'{name}'" : $"'{name}' (stored as '{entry.Name}')";
            if (!entry.Shape.SequenceEqual(tensor.shape))
                problems.Add($"tensor {label} in '{file.Path}' has shape {SafeTensorsFile.Shape(entry.Shape)}, the model expects {SafeTensorsFile.Shape(tensor.shape)}");
            else if (!SafeTensorsDTypes.CanCopy(entry.DType, tensor.dtype))
                problems.Add($"tensor {label} in '{file.Path}' is stored as {entry.DType}, which cannot be loaded into the model's {tensor.dtype} tensor (readable: {SafeTensorsDTypes.Readable})");
            else
                targets[entry] = tensor;
        }
        foreach (var (name, (file, entry)) in sources)
        {
            if (expected.ContainsKey(name)) continue;
            if (options.Optional.Contains(name)) skipped.Add(entry.Name);
            else problems.Add($"unexpected tensor '{entry.Name}' {SafeTensorsFile.Shape(entry.Shape)} in '{file.Path}' (the model has no '{name}')");
        }
        if (problems.Count > 0)
        {
            int listed = Math.Max(1, options.MaxListedProblems);
            string list = string.Join("", problems.Take(listed).Select(p => "\n  - " + p));
            string more = problems.Count > listed ? $"\n  … and {problems.Count - listed} more" : "";
            throw new InvalidDataException(
                $"The weights '{describe}' do not match the {module.GetType().Name} ({expected.Count} tensors): {problems.Count} problem(s); nothing was loaded.{list}{more}");
        }
        return new Plan(targets, keptOwn, skipped);
    }
}
