using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Torch;

namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>A base model and a rarity reward loaded from files for fine-tuning; disposing releases both.</summary>
internal sealed class FineTuneInputs : IDisposable
{
    private FineTuneInputs(DiffusionModel baseModel, IImageReward rarity)
    {
        BaseModel = baseModel;
        Rarity = rarity;
    }

    public DiffusionModel BaseModel { get; }

    public IImageReward Rarity { get; }

    /// <summary>
    /// Loads the base model onto <paramref name="device"/>, then the reward (a file or <c>builtin:NAME</c>, see
    /// <see cref="RewardLoader"/>) over it.
    /// </summary>
    public static FineTuneInputs Load(string baseModelPath, string rewardSpecification, RewardLoadOptions? rewardOptions = null,
        DiffNftDevice device = DiffNftDevice.Auto)
    {
        var model = DiffusionModel.Load(baseModelPath, device);
        try
        {
            return new FineTuneInputs(model, RewardLoader.Load(rewardSpecification, (rewardOptions ?? new RewardLoadOptions()) with { BaseModel = model }));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        (Rarity as IDisposable)?.Dispose();
        BaseModel.Dispose();
    }
}
