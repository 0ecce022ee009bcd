using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.FineTuning;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.FineTuning;

[Collection(TorchGlobalRngCollection.Name)]
public class LoraAdapterTests
{
    private static Tensor Output(DiffusionModel model, double guidance = 2.0)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var gen = new Generator(42);
        var x = randn(new long[] { 3, 3, 32, 32 }, generator: gen);
        var ids = model.EncodePrompts(new[] { "a block", "a block, square red", "a block, background green" });
        return model.GuidedOutput(x, 600, ids, guidance).MoveToOuterDisposeScope();
    }

    private static void Randomise(LoraAdapter adapter, double std = 0.05)
    {
        using var noGrad = no_grad();
        using var gen = new Generator(9);
        foreach (var (name, p) in adapter.Parameters)
            if (name.EndsWith(".lora_b", StringComparison.Ordinal))
                p.copy_(randn(p.shape, generator: gen) * std);
    }

    [Fact]
    public void AFreshAdapterLeavesOutputsIdenticalAndDisablingRestoresTheReferenceExactly()
    {
        var model = FineTuneTestModels.Base;
        using var reference = Output(model);
        using var adapter = LoraAdapter.Attach(model.Network, 4, 4, LoraTargets.All, seed: 1, CPU);
        using (var fresh = Output(model))
            Assert.True(fresh.eq(reference).all().item<bool>(), "B = 0 must leave the network's output bit-identical");

        Randomise(adapter);
        using (var adapted = Output(model))
            Assert.True(adapted.sub(reference).abs().max().item<float>() > 1e-3, "a non-zero adapter must change the output");
        using (adapter.Disable())
        using (var disabled = Output(model))
            Assert.True(disabled.eq(reference).all().item<bool>(), "the adapter switched off must give the reference exactly");
        Assert.True(adapter.Enabled);
        adapter.Dispose();
        using var detached = Output(model);
        Assert.True(detached.eq(reference).all().item<bool>(), "disposing the adapter must remove its hooks");
    }

    [Theory]
    [InlineData(LoraTargets.Linear)]
    [InlineData(LoraTargets.All)]
    public void MergedWeightsComputeWhatTheAdapterComputes(LoraTargets targets)
    {
        var model = FineTuneTestModels.Base;
        using var adapter = LoraAdapter.Attach(model.Network, 3, 6, targets, seed: 2, CPU);
        Randomise(adapter, 0.1);
        using var adapted = Output(model);
        using var merged = model.Clone();
        adapter.MergeInto(merged.Network);
        using var mergedOut = Output(merged);
        double diff = adapted.sub(mergedOut).abs().max().item<float>();
        double scale = adapted.abs().max().item<float>();
        Assert.True(diff <= 1e-5 * Math.Max(1, scale), $"merged vs adapter max difference {diff:E2} (output scale {scale:F3})");
    }

    [Fact]
    public void TargetsSelectTheLayersTheyName()
    {
        var net = FineTuneTestModels.Base.Network;
        using (var attention = LoraAdapter.Attach(net, 2, 2, LoraTargets.Attention, 1, CPU))
        {
            var names = attention.Parameters.Select(p => p.Name).Where(n => n.EndsWith(".lora_a")).ToList();
            Assert.Equal(new[] { "midAttn.qkv", "midAttn.proj", "midAttn.crossQ", "midAttn.crossKv", "midAttn.crossProj" }.Order(),
                names.Select(n => n[..^".lora_a".Length]).Order());
        }
        using (var conditioning = LoraAdapter.Attach(net, 2, 2, LoraTargets.Conditioning, 1, CPU))
        {
            var names = conditioning.Parameters.Select(p => p.Name).ToList();
            Assert.Contains("textToEmb.lora_a", names);
            Assert.Contains("time.fc1.lora_a", names);
            Assert.Contains(names, n => n.EndsWith(".film.lora_b", StringComparison.Ordinal));
            Assert.DoesNotContain(names, n => n.StartsWith("text.", StringComparison.Ordinal) || n.StartsWith("midAttn.", StringComparison.Ordinal));
        }
        using (var text = LoraAdapter.Attach(net, 2, 2, LoraTargets.TextEncoder, 1, CPU))
            Assert.All(text.Parameters, p => Assert.StartsWith("text.", p.Name));
        using (var conv = LoraAdapter.Attach(net, 2, 2, LoraTargets.Convolutions, 1, CPU))
            Assert.Contains(conv.Parameters, p => p.Name == "convIn.lora_a" && p.Parameter.shape.SequenceEqual(new long[] { 2, 3, 3, 3 }));
    }
}
