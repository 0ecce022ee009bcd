using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Tests.Diffusion;
using Microsoft.ML.DiffNft.Torch;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.FineTuning;

/// <summary>
/// A real, checkable objective for tests: the mean of one colour channel of the image (−1 … 1), i.e. how red (channel 0)
/// the image is. Differentiable, cheap, and measurable independently of the fine-tuner.
/// </summary>
internal sealed class ChannelMeanReward(int channel = 0, string name = "red") : IImageReward
{
    public int Calls { get; private set; }

    public string Name => name;

    public bool IsDifferentiable => true;

    public Tensor Score(Tensor images)
    {
        Calls++;
        return images.select(1, channel).mean(new long[] { 1, 2 });
    }

    /// <summary>The objective measured on finished images, outside the fine-tuner.</summary>
    public static double Measure(IEnumerable<Imaging.RgbaImage> images, int channel = 0)
    {
        using var scope = NewDisposeScope();
        var t = Imaging.ImageTensors.ToTensor(images.ToList());
        return t.select(1, channel).mean().item<float>();
    }
}

/// <summary>A reward that fails the test if it is ever asked for a score.</summary>
internal sealed class MustNotBeCalledReward(string name = "never") : IImageReward
{
    public string Name => name;

    public bool IsDifferentiable => true;

    public Tensor Score(Tensor images) => throw new InvalidOperationException($"Reward '{name}' has weight 0 and must not be computed.");
}

/// <summary>A Tiny diffusion model trained briefly on coloured blocks, shared by the fine-tuning tests (never modified by them).</summary>
internal static class FineTuneTestModels
{
    private static readonly Lazy<DiffusionModel> TinyBase = new(() =>
    {
        var (images, captions) = DiffusionTrainingTests.Blocks(32, seed: 7);
        var options = new DiffusionTrainerOptions
        {
            Preset = DiffusionPreset.Tiny, BatchSize = 8, MaxSteps = 60, Seed = 11, Device = DiffNftDevice.Cpu, ReportEvery = 60,
            PromptPhraseDropout = 0.5, LearningRate = 2e-3,
        };
        return new DiffusionTrainer(options).Train(images, captions);
    });

    public static DiffusionModel Base => TinyBase.Value;

    public static readonly string[] Prompts = { "a block", "a block, background blue" };

    /// <summary>Small, fast fine-tuning settings: 2 prompts × 4 images, 4 DDIM steps, every step but the last in the PPO term.</summary>
    public static FineTuneOptions Fast(int iterations, FineTuneMode mode = FineTuneMode.Ppo) => new()
    {
        Mode = mode, MaxIterations = iterations, PromptsPerIteration = 2, ImagesPerPrompt = 4, SamplingSteps = 4,
        GuidanceScale = 1.0, TimestepFraction = 1.0, TrainBatchSize = 8, LearningRate = 1e-2, KlWeight = 0.01,
        LoraRank = 4, Seed = 5, CheckpointEvery = 0, BackpropSteps = 2,
    };

    /// <summary>Mean red of images generated with fixed seeds (not those of training) — an evaluation outside the fine-tuner.</summary>
    public static double EvaluateRed(DiffusionModel model, int count = 32)
    {
        var prompts = Enumerable.Range(0, count).Select(i => Prompts[i % Prompts.Length]).ToList();
        var seeds = Enumerable.Range(0, count).Select(i => 10_000L + i).ToList();
        var images = model.Generate(prompts, seeds, new SamplingOptions { Steps = 4, GuidanceScale = 1.0, Eta = 1.0 });
        return ChannelMeanReward.Measure(images);
    }
}
