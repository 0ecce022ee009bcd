using Microsoft.ML.DiffNft.StableDiffusion.Modules;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Modules;

/// <summary>The tiny configurations diffusers' own Stable Diffusion tests use.</summary>
internal static class TinyConfigs
{
    public static UNet2DConditionConfig UNet => new()
    {
        BlockOutChannels = [32, 64],
        LayersPerBlock = PerBlock.Of(2),
        SampleSize = 32,
        InChannels = 4,
        OutChannels = 4,
        DownBlockTypes = ["DownBlock2D", "CrossAttnDownBlock2D"],
        UpBlockTypes = ["CrossAttnUpBlock2D", "UpBlock2D"],
        CrossAttentionDim = 32,
        Source = "tiny UNet",
    };

    public static AutoencoderKLConfig Vae => new()
    {
        BlockOutChannels = [32, 64],
        InChannels = 3,
        OutChannels = 3,
        DownBlockTypes = ["DownEncoderBlock2D", "DownEncoderBlock2D"],
        UpBlockTypes = ["UpDecoderBlock2D", "UpDecoderBlock2D"],
        LatentChannels = 4,
        Source = "tiny VAE",
    };
}
