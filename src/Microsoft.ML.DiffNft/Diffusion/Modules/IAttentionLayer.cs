namespace Microsoft.ML.DiffNft.Diffusion.Modules;

/// <summary>
/// Marks a module whose linear layers are attention projections (queries, keys, values, outputs), so that
/// <see cref="FineTuning.LoraTargets.Attention"/> finds them in any network: the package's own UNet and Stable
/// Diffusion's alike.
/// </summary>
internal interface IAttentionLayer
{
}
