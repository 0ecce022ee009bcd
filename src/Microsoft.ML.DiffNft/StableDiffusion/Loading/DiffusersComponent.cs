namespace Microsoft.ML.DiffNft.StableDiffusion.Loading;

/// <summary>
/// One component a diffusers pipeline's <c>model_index.json</c> lists, as its <c>[library, class]</c> pair: for
/// example <c>unet</c> = <c>["diffusers", "UNet2DConditionModel"]</c>, <c>text_encoder</c> =
/// <c>["transformers", "CLIPTextModel"]</c>. A pipeline saved without an optional component (a safety checker)
/// lists it as <c>[null, null]</c>: then <see cref="Library"/> and <see cref="ClassName"/> are null.
/// </summary>
/// <param name="Name">The component's name, which is also its subfolder's name.</param>
/// <param name="Library">The Python library that defines its class, or null.</param>
/// <param name="ClassName">The class, or null.</param>
internal sealed record DiffusersComponent(string Name, string? Library, string? ClassName)
{
    /// <summary>Whether the pipeline was saved without this component (<c>[null, null]</c>).</summary>
    public bool IsAbsent => Library is null && ClassName is null;
}
