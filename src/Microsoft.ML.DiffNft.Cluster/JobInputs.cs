using Microsoft.ML.DiffNft.Saving;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.StableDiffusion;

namespace Microsoft.ML.DiffNft.Cluster;

/// <summary>
/// A fine-tuning job's base model, reward and options, loaded from its spec the same way by the learner and by every
/// sampler: a package model file with rarity·W + fidelity·F, or a diffusers Stable Diffusion folder with the rarity
/// reward alone. Disposing releases what was loaded.
/// </summary>
internal sealed class JobInputs : IDisposable
{
    private readonly IDisposable[] _owned;

    private JobInputs(DenoisingModel model, IImageReward reward, FineTuneOptions options, params IDisposable[] owned)
    {
        Model = model;
        Reward = reward;
        Options = options;
        _owned = owned;
    }

    public DenoisingModel Model { get; }

    public IImageReward Reward { get; }

    public FineTuneOptions Options { get; }

    /// <summary>Whether the model is a Stable Diffusion pipeline (its run writes a LoRA adapter folder).</summary>
    public bool IsStableDiffusion => Model is StableDiffusionModel;

    public static JobInputs Load(FineTuneJobSpec spec)
    {
        var options = OptionsJson.Read<FineTuneOptions>(spec.OptionsJson, $"fine-tuning options of job '{spec.JobId}'");
        var rewardOptions = new RewardLoadOptions { RarityOutput = (RarityRewardKind)spec.RarityOutput };
        if (spec.StableDiffusionJson is null)
        {
            var inputs = FineTuneInputs.Load(spec.BaseModelPath, spec.RewardSpecification, rewardOptions);
            return new JobInputs(inputs.BaseModel, FineTuneJob.RarityAndFidelity(inputs.BaseModel, inputs.Rarity, spec.RarityWeight, spec.FidelityWeight), options, inputs);
        }
        var load = OptionsJson.Read<StableDiffusionLoadOptions>(spec.StableDiffusionJson, $"Stable Diffusion load options of job '{spec.JobId}'");
        var model = StableDiffusionLoader.Load(spec.BaseModelPath, load);
        try
        {
            var rarity = RewardLoader.Load(spec.RewardSpecification, rewardOptions with { Device = load.Device });
            var owned = rarity is IDisposable d ? new IDisposable[] { model, d } : new IDisposable[] { model };
            return new JobInputs(model, FineTuneJob.StableDiffusionReward(rarity, spec.RarityWeight), options, owned);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        // The reward first: it may hold a reference to the model.
        for (int i = _owned.Length - 1; i >= 0; i--) _owned[i].Dispose();
    }
}
