namespace Microsoft.ML.DiffNft.StableDiffusion.Loading;

/// <summary>How <see cref="StateDictLoader"/> matches a file's tensor names with a module's state dict.</summary>
internal sealed class StateDictLoadOptions
{
    /// <summary>
    /// Rename the VAE mid-block attention tensors of older checkpoints (<c>query</c>, <c>key</c>, <c>value</c>,
    /// <c>proj_attn</c>) to the names current diffusers uses (<c>to_q</c>, <c>to_k</c>, <c>to_v</c>, <c>to_out.0</c>);
    /// see <see cref="StateDictNameMaps.LegacyVaeAttention"/>. Default false; set it when loading an AutoencoderKL:
    /// published Stable Diffusion 1.5 and 2.1 VAE files use either naming. Applied before <see cref="Rename"/>.
    /// </summary>
    public bool MapLegacyVaeAttentionNames { get; init; }

    /// <summary>
    /// Maps a tensor name in the file to the module's name for it, or to null to skip the tensor. Default: none
    /// (names must be equal).
    /// </summary>
    public Func<string, string?>? Rename { get; init; }

    /// <summary>
    /// Module names (after renaming) that the file may lack — the module keeps its own value — and that the file may
    /// hold although the module does not — the tensor is skipped. For example transformers' CLIP
    /// <c>text_model.embeddings.position_ids</c> buffer, saved by older transformers versions and not by newer ones.
    /// When both sides have the tensor it is loaded and checked like any other.
    /// </summary>
    public IReadOnlySet<string> Optional { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>How many problems the error message lists before it only counts the rest.</summary>
    public int MaxListedProblems { get; init; } = 10;

    /// <summary>The effective file-to-module name map: the built-in legacy mapping (when enabled), then <see cref="Rename"/>.</summary>
    internal string? MapName(string fileName)
    {
        string name = MapLegacyVaeAttentionNames ? StateDictNameMaps.LegacyVaeAttention(fileName) : fileName;
        return Rename is null ? name : Rename(name);
    }
}
