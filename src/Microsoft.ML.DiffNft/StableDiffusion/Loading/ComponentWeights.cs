namespace Microsoft.ML.DiffNft.StableDiffusion.Loading;

/// <summary>
/// Where one component's weights are: a single safetensors file, or the shards a
/// <c>*.safetensors.index.json</c> lists. Found by <see cref="DiffusersFolder.FindWeights"/>; loaded by
/// <see cref="StateDictLoader"/>.
/// </summary>
/// <param name="Component">The component's name (unet, vae, text_encoder, …).</param>
/// <param name="Files">The safetensors files, full paths: one, or every shard in index order.</param>
/// <param name="IndexFile">The shard index, or null for a single file.</param>
/// <param name="WeightMap">
/// For sharded weights, each tensor's shard (full path) as the index names it; the loader checks the shards agree.
/// Null for a single file.
/// </param>
/// <param name="Variant">The variant the files are (such as "fp16"), or null for the plain weights.</param>
internal sealed record ComponentWeights(string Component, IReadOnlyList<string> Files, string? IndexFile,
    IReadOnlyDictionary<string, string>? WeightMap, string? Variant)
{
    /// <summary>The one file that names these weights in messages: the index for shards, else the file.</summary>
    public string Describe => IndexFile ?? Files[0];
}
