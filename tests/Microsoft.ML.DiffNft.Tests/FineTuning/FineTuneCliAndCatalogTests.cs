using DiffNft.Cli;
using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Catalog;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Tests.Diffusion;
using Microsoft.ML.DiffNft.Torch;
using Microsoft.ML.Transforms.Image;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DiffNft.Tests.FineTuning;

[Collection(TorchGlobalRngCollection.Name)]
public class FineTuneCliAndCatalogTests(ITestOutputHelper output)
{
    private sealed class PromptRow
    {
        public string Prompt { get; set; } = "";
    }

    private (int Code, string Out, string Err) Cli(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        output.WriteLine($"diffnft {string.Join(' ', args)} → {code}\n{stdout}{stderr}");
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void TheEstimatorReturnsAGeneratorOfTheSameKindWithTheBaseOptions()
    {
        using var dir = new TempDir();
        string basePath = Path.Combine(dir.Path, "base.diffnft");
        FineTuneTestModels.Base.Save(basePath);
        var ml = new MLContext(seed: 1);
        var generatorOptions = new GeneratorOptions { Device = DiffNftDevice.Cpu, Seed = 3, Generation = new SamplingOptions { Steps = 3 } };
        using var baseGenerator = ml.Transforms.DiffNft.LoadDiffusionGenerator(basePath, generatorOptions);
        var prompts = ml.Data.LoadFromEnumerable(new[] { new PromptRow { Prompt = "a block" }, new PromptRow { Prompt = "a block, background blue" } });
        var messages = new List<string>();
        ml.Log += (_, e) => { if (e.Kind == Runtime.ChannelMessageKind.Info) messages.Add(e.RawMessage); };

        var estimator = ml.Transforms.DiffNft.FineTune(baseGenerator, new ChannelMeanReward(), rarityWeight: 1, fidelityWeight: 0.5,
            FineTuneTestModels.Fast(2));
        var shape = estimator.GetOutputSchema(new SchemaShape(prompts.Schema.Select(c => SchemaShapeOracle.Column(c.Name, c.Type))));
        Assert.Contains(shape, c => c.Name == "GeneratedImage");
        using var tuned = estimator.Fit(prompts);

        Assert.IsType<DiffusionGeneratorTransformer>(tuned);
        Assert.Equal(baseGenerator.Options, tuned.Options);
        Assert.NotSame(baseGenerator.Model, tuned.Model);
        Assert.Contains(messages, m => m.StartsWith("iter 2/2", StringComparison.Ordinal) && m.Contains("red") && m.Contains("fidelity"));
        // The weights moved, and the base model did not.
        var tunedWeights = tuned.Model.Denoiser.state_dict();
        Assert.Contains(baseGenerator.Model.Denoiser.state_dict(), kv => !kv.Value.eq(tunedWeights[kv.Key]).all().item<bool>());
        using (var reloaded = DiffusionModel.Load(basePath, DiffNftDevice.Cpu))
            Assert.All(reloaded.Network.state_dict(), kv => Assert.True(kv.Value.eq(baseGenerator.Model.Denoiser.state_dict()[kv.Key]).all().item<bool>()));

        var images = tuned.Transform(prompts);
        Assert.Equal(new ImageDataViewType(32, 32), images.Schema["GeneratedImage"].Type);
        Assert.Equal(2, images.GetColumn<MLImage>("GeneratedImage").Count());

        var noPrompt = ml.Data.LoadFromEnumerable(new[] { new { Other = "x" } });
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => { estimator.Fit(noPrompt).Dispose(); });
        Assert.Contains("Could not find prompt column 'Prompt'", ex.Message);
    }

    [Fact]
    public void TheCommandFineTunesResumesAndWritesLogAndGrids()
    {
        using var dir = new TempDir();
        string basePath = Path.Combine(dir.Path, "base.diffnft");
        FineTuneTestModels.Base.Save(basePath);
        string tuned = Path.Combine(dir.Path, "tuned.diffnft");
        string[] Args(int iterations) => new[]
        {
            "finetune", "--base", basePath, "--reward", "builtin:fidelity", "--prompt", "a block", "--rarity-weight", "1",
            "--fidelity-weight", "0", "--kl-weight", "0.01", "--iterations", iterations.ToString(), "--prompts-per-iteration", "1",
            "--images-per-prompt", "2", "--steps", "2", "--guidance", "1", "--lora-rank", "2", "--sample-every", "1",
            "--checkpoint-every", "1", "--out", tuned,
        };
        var (code, stdout, stderr) = Cli(Args(2));
        Assert.Equal(0, code);
        Assert.Contains(tuned, stdout);
        Assert.Contains("iter 2/2", stderr);
        using (var model = DiffusionModel.Load(tuned, DiffNftDevice.Cpu))
            Assert.Equal(FineTuneTestModels.Base.ParameterCount, model.ParameterCount);
        Assert.True(File.Exists(tuned + ".ckpt"));
        Assert.True(File.Exists(Path.Combine(tuned + ".samples", "grid-00000.png")));
        Assert.True(File.Exists(Path.Combine(tuned + ".samples", "grid-00002.png")));
        var log = File.ReadAllLines(tuned + ".log.csv");
        Assert.Equal(3, log.Length);
        Assert.Contains("reward_rarity", log[0]);
        Assert.DoesNotContain("reward_fidelity", log[0]);

        // The same command with a larger budget resumes from the checkpoint: one more iteration, not three.
        (code, _, stderr) = Cli(Args(3));
        Assert.Equal(0, code);
        Assert.Contains("iter 3/3", stderr);
        Assert.DoesNotContain("iter 1/3", stderr);
        Assert.Equal(4, File.ReadAllLines(tuned + ".log.csv").Length);
    }

    [Fact]
    public void TheCommandReportsBadInputInOneLine()
    {
        using var dir = new TempDir();
        string basePath = Path.Combine(dir.Path, "base.diffnft");
        FineTuneTestModels.Base.Save(basePath);
        string outPath = Path.Combine(dir.Path, "t.diffnft");
        var (code, _, stderr) = Cli("finetune", "--base", basePath, "--reward", basePath, "--out", outPath);
        Assert.Equal(1, code);
        Assert.Contains("Reward model format 'diffnft.diffusion'", stderr);
        Assert.Contains("not supported", stderr);

        (code, _, stderr) = Cli("finetune", "--base", basePath, "--reward", "builtin:fidelity", "--prompt", "a", "--prompts", "p.txt", "--out", outPath);
        Assert.Equal(1, code);
        Assert.Contains("either --prompt or --prompts", stderr);

        string empty = Path.Combine(dir.Path, "prompts.txt");
        File.WriteAllText(empty, "# only a comment\n\n");
        (code, _, stderr) = Cli("finetune", "--base", basePath, "--reward", "builtin:fidelity", "--prompts", empty, "--out", outPath);
        Assert.Equal(1, code);
        Assert.Contains(empty, stderr);

        (code, _, stderr) = Cli("finetune", "--base", basePath, "--reward", "builtin:fidelity", "--mode", "backprop", "--images-per-prompt", "2",
            "--steps", "2", "--backprop-steps", "3", "--out", outPath);
        Assert.Equal(1, code);
        Assert.Contains("BackpropSteps", stderr);
        Assert.False(File.Exists(outPath));
    }
}
