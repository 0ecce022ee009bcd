using Microsoft.ML.DiffNft.StableDiffusion.Clip;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Clip;

/// <summary>
/// Tests that switch torch's process-wide default device (to the meta device, to count parameters without allocating
/// them). They run alone: a tensor another test created meanwhile would land on the meta device.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchDefaultDeviceCollection
{
    public const string Name = "Torch default device";
}

[Collection(TorchDefaultDeviceCollection.Name)]
public class ClipTextModelSizeTests
{
    private readonly ITestOutputHelper _output;

    public ClipTextModelSizeTests(ITestOutputHelper output)
    {
        TorchRuntime.EnsureLoaded();
        _output = output;
    }

    [Fact]
    public void Sd15HasThePublishedParameterCountAndSd21Builds()
    {
        // Counted from the shapes on the meta device: no memory is allocated for 123M (SD 1.5) or 340M (SD 2.1) weights.
        Assert.Equal(123_060_480L, CountParameters(ClipTextConfig.StableDiffusion15));
        long sd21 = CountParameters(ClipTextConfig.StableDiffusion21);
        _output.WriteLine($"SD 2.1 text encoder parameters: {sd21:N0}");
        // 49408·1024 + 77·1024 embeddings, 23 layers of 4·(1024²+1024) + 2·2·1024 + 2·1024·4096 + 4096 + 1024, final norm.
        long layer = 4L * (1024 * 1024 + 1024) + 4 * 1024 + 2L * 1024 * 4096 + 4096 + 1024;
        Assert.Equal(49408L * 1024 + 77 * 1024 + 23 * layer + 2 * 1024, sd21);
    }

    private static long CountParameters(ClipTextConfig config)
    {
        torch.set_default_device(torch.META);
        try
        {
            using var model = new ClipTextModel(config);
            return model.parameters().Sum(p => p.numel());
        }
        finally
        {
            torch.set_default_device(torch.CPU);
        }
    }
}
