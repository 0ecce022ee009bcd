using Microsoft.ML.DiffNft.StableDiffusion.Loading;
using Microsoft.ML.DiffNft.Tests.Nouns;
using Microsoft.ML.DiffNft.Torch;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Loading;

public class StateDictLoaderTests
{
    public StateDictLoaderTests() => TorchRuntime.EnsureLoaded();

    [Theory]
    [InlineData("F32", "Float32")]
    [InlineData("F16", "Float32")]
    [InlineData("BF16", "Float32")]
    [InlineData("F32", "BFloat16")]
    [InlineData("F16", "Float16")]
    public void LoadsEveryParameterAndPersistentBufferInPlace(string stored, string moduleType)
    {
        using var dir = new NounsTestData.TempDir();
        using var scope = NewDisposeScope();
        string path = Path.Combine(dir.Path, "w.safetensors");
        PipelineFolderBuilder.WriteWeights(path, offset: 0.5, Enum.Parse<SafeTensorsDType>(stored));
        var type = Enum.Parse<ScalarType>(moduleType);
        using var source = new TinyNet().Fill(0.5);
        using var net = new TinyNet(type);
        var before = net.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);
        var result = StateDictLoader.LoadInto(net, [path]);

        Assert.Equal(TinyNet.Layout.Length, result.Loaded);
        Assert.Empty(result.KeptOwn);
        Assert.Empty(result.Skipped);
        var loaded = net.state_dict();
        Assert.Equal(TinyNet.Layout.Select(l => l.Name).Order(), loaded.Keys.Order());   // the non-persistent buffer is not in it
        foreach (var (name, t) in loaded)
        {
            Assert.Same(before[name], t);   // the module's own tensors, filled in place
            Assert.Equal(name == "position_ids" ? ScalarType.Int64 : type, t.dtype);
            // Rounded as the file's type, then the module's, rounded them.
            var expected = source.state_dict()[name];
            if (expected.is_floating_point())
                expected = expected.to(SafeTensorsDTypes.ToScalarType(Enum.Parse<SafeTensorsDType>(stored))).to(type);
            Assert.True(RawSafeTensors.Same(t, expected), name);
        }
        Assert.Equal(new long[] { 0, 1, 2, 3, 4 }, net.get_buffer("position_ids")!.data<long>().ToArray());
        Assert.All(net.parameters(), p => Assert.True(p.requires_grad));   // still trainable parameters
    }

    [Fact]
    public void MismatchesAreReportedTogetherAndNothingIsCopied()
    {
        using var dir = new NounsTestData.TempDir();
        using var scope = NewDisposeScope();
        string path = Path.Combine(dir.Path, "bad.safetensors");
        using (var other = new TinyNet().Fill(3))
        {
            var sd = other.state_dict().Where(kv => kv.Key != "norm.bias" && kv.Key != "conv.weight").ToDictionary(kv => kv.Key, kv => kv.Value);
            sd["proj.weight"] = ones(3, 4);                 // transposed shape
            sd["extra.weight"] = ones(2);                   // not in the model
            sd["blocks.1.weight"] = ones(new long[] { 4, 4 }, dtype: ScalarType.Int64);   // integers for a float parameter
            SafeTensorsWriter.Write(path, sd);
        }
        using var net = new TinyNet().Fill(0);
        var snapshot = net.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var ex = Assert.Throws<InvalidDataException>(() => StateDictLoader.LoadInto(net, [path]));
        Assert.Contains(path, ex.Message);
        Assert.Contains("5 problem(s)", ex.Message);
        Assert.Contains("missing tensor 'norm.bias' (the model expects shape [4])", ex.Message);
        Assert.Contains("missing tensor 'conv.weight' (the model expects shape [3,2,3,3])", ex.Message);
        Assert.Contains("tensor 'proj.weight' in '" + path + "' has shape [3,4], the model expects [4,3]", ex.Message);
        Assert.Contains("unexpected tensor 'extra.weight' [2]", ex.Message);
        Assert.Contains("'blocks.1.weight'", ex.Message);
        Assert.Contains("I64", ex.Message);
        Assert.Contains("nothing was loaded", ex.Message);
        foreach (var (name, t) in net.state_dict())
            Assert.True(RawSafeTensors.Same(t, snapshot[name]), name);   // every tensor as it was
    }

    [Fact]
    public void LongListsShowTheFirstProblemsAndCountTheRest()
    {
        using var dir = new NounsTestData.TempDir();
        using var scope = NewDisposeScope();
        string path = Path.Combine(dir.Path, "many.safetensors");
        SafeTensorsWriter.Write(path, Enumerable.Range(0, 25).Select(i => new KeyValuePair<string, Tensor>($"stray.{i:D2}", ones(1))));
        using var net = new TinyNet();
        var ex = Assert.Throws<InvalidDataException>(() => StateDictLoader.LoadInto(net, [path]));
        Assert.Contains($"{25 + TinyNet.Layout.Length} problem(s)", ex.Message);
        Assert.Contains($"and {25 + TinyNet.Layout.Length - 10} more", ex.Message);
        Assert.Equal(10, ex.Message.Split("\n  - ").Length - 1);
    }

    [Fact]
    public void LegacyVaeAttentionNamesMapToCurrentOnes()
    {
        Assert.Equal("encoder.mid_block.attentions.0.to_q.weight", StateDictNameMaps.LegacyVaeAttention("encoder.mid_block.attentions.0.query.weight"));
        Assert.Equal("decoder.mid_block.attentions.0.to_k.bias", StateDictNameMaps.LegacyVaeAttention("decoder.mid_block.attentions.0.key.bias"));
        Assert.Equal("decoder.mid_block.attentions.0.to_v.weight", StateDictNameMaps.LegacyVaeAttention("decoder.mid_block.attentions.0.value.weight"));
        Assert.Equal("encoder.mid_block.attentions.0.to_out.0.weight", StateDictNameMaps.LegacyVaeAttention("encoder.mid_block.attentions.0.proj_attn.weight"));
        // Unchanged: the group norm, current names, and look-alikes elsewhere (a UNet's attention is not renamed).
        foreach (var name in new[] { "encoder.mid_block.attentions.0.group_norm.weight", "decoder.mid_block.attentions.0.to_q.weight",
                     "mid_block.attentions.0.query.weight", "encoder.mid_block.attentions.0.query.weight.extra" })
            Assert.Equal(name, StateDictNameMaps.LegacyVaeAttention(name));
    }

    [Fact]
    public void RenamingAndOptionalNamesLetOlderLayoutsLoad()
    {
        using var dir = new NounsTestData.TempDir();
        using var scope = NewDisposeScope();
        using var source = new TinyNet().Fill(1);
        // A file with legacy VAE names for two of the module's tensors, without the position_ids buffer, and with a
        // tensor the module does not have.
        var legacy = new Dictionary<string, string>
        {
            ["decoder.mid_block.attentions.0.query.weight"] = "proj.weight",
            ["decoder.mid_block.attentions.0.proj_attn.bias"] = "proj.bias",
        };
        var sd = source.state_dict().Where(kv => kv.Key is not ("position_ids" or "proj.weight" or "proj.bias")).ToDictionary(kv => kv.Key, kv => kv.Value);
        sd["decoder.mid_block.attentions.0.query.weight"] = source.state_dict()["proj.weight"];
        sd["decoder.mid_block.attentions.0.proj_attn.bias"] = source.state_dict()["proj.bias"];
        sd["text_model.embeddings.position_ids"] = arange(77L).unsqueeze(0);
        string path = Path.Combine(dir.Path, "legacy.safetensors");
        SafeTensorsWriter.Write(path, sd);

        var current = new Dictionary<string, string> { ["decoder.mid_block.attentions.0.to_q.weight"] = "proj.weight", ["decoder.mid_block.attentions.0.to_out.0.bias"] = "proj.bias" };
        var options = new StateDictLoadOptions
        {
            MapLegacyVaeAttentionNames = true,
            // The test module's own names stand in for the VAE's: the legacy map runs first, then this one.
            Rename = n => current.TryGetValue(n, out var mine) ? mine : n,
            Optional = new HashSet<string> { "position_ids", "text_model.embeddings.position_ids" },
        };
        using var net = new TinyNet();
        var result = StateDictLoader.LoadInto(net, [path], options);
        Assert.Equal(TinyNet.Layout.Length - 1, result.Loaded);
        Assert.Equal(["position_ids"], result.KeptOwn);
        Assert.Equal(["text_model.embeddings.position_ids"], result.Skipped);
        Assert.True(RawSafeTensors.Same(net.state_dict()["proj.weight"], source.state_dict()["proj.weight"]));
        Assert.True(RawSafeTensors.Same(net.state_dict()["proj.bias"], source.state_dict()["proj.bias"]));

        // Without the legacy option the old names are unexpected and the new ones missing.
        using var strict = new TinyNet();
        var ex = Assert.Throws<InvalidDataException>(() => StateDictLoader.LoadInto(strict, [path],
            new StateDictLoadOptions { Rename = options.Rename, Optional = options.Optional }));
        Assert.Contains("unexpected tensor 'decoder.mid_block.attentions.0.query.weight'", ex.Message);
        Assert.Contains("missing tensor 'proj.weight'", ex.Message);
    }

    [Fact]
    public void ATensorGivenTwiceAfterRenamingIsAnError()
    {
        using var dir = new NounsTestData.TempDir();
        using var scope = NewDisposeScope();
        using var source = new TinyNet().Fill(1);
        var sd = source.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);
        sd["encoder.mid_block.attentions.0.query.weight"] = ones(4, 4);
        sd["encoder.mid_block.attentions.0.to_q.weight"] = ones(4, 4);
        string path = Path.Combine(dir.Path, "twice.safetensors");
        SafeTensorsWriter.Write(path, sd);
        using var net = new TinyNet();
        var ex = Assert.Throws<InvalidDataException>(() => StateDictLoader.LoadInto(net, [path], new StateDictLoadOptions { MapLegacyVaeAttentionNames = true }));
        Assert.Contains("'encoder.mid_block.attentions.0.to_q.weight' is given twice", ex.Message);
    }

    [Fact]
    public void ShardedWeightsLoadAndMustAgreeWithTheirIndex()
    {
        using var dir = new NounsTestData.TempDir();
        using var scope = NewDisposeScope();
        string root = PipelineFolderBuilder.Write(Path.Combine(dir.Path, "sd"), weights: false);
        string unet = Path.Combine(root, "unet");
        PipelineFolderBuilder.WriteSharded(unet, "diffusion_pytorch_model.safetensors.index.json", "diffusion_pytorch_model", 2);
        var weights = DiffusersFolder.Open(root).FindWeights("unet");
        using var source = new TinyNet().Fill(2);
        using var net = new TinyNet();
        Assert.Equal(TinyNet.Layout.Length, StateDictLoader.LoadInto(net, weights).Loaded);
        foreach (var (name, t) in net.state_dict())
            Assert.True(RawSafeTensors.Same(t, source.state_dict()[name]), name);

        // An index that places a tensor in the wrong shard.
        var wrong = weights with { WeightMap = weights.WeightMap!.ToDictionary(kv => kv.Key, kv => kv.Key == "proj.bias" ? weights.Files[1] : kv.Value) };
        using var net2 = new TinyNet();
        var ex = Assert.Throws<InvalidDataException>(() => StateDictLoader.LoadInto(net2, wrong));
        Assert.Contains("'proj.bias'", ex.Message);
        Assert.Contains("shard index", ex.Message);
        Assert.Contains(weights.IndexFile!, ex.Message);
    }

    [Fact]
    public void ANonFiniteWeightIsRefusedNamingTheFileAndTensor()
    {
        using var dir = new NounsTestData.TempDir();
        using var scope = NewDisposeScope();
        using var source = new TinyNet().Fill(1);
        var sd = source.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);
        // Written by an independent writer: ours refuses NaN.
        var bad = sd["norm.weight"].clone();
        bad[2] = float.NaN;
        sd["norm.weight"] = bad;
        string path = Path.Combine(dir.Path, "nan.safetensors");
        RawSafeTensors.WriteWithPyBridge(path, sd);
        using var net = new TinyNet();
        var ex = Assert.Throws<InvalidDataException>(() => StateDictLoader.LoadInto(net, [path]));
        Assert.Contains(path, ex.Message);
        Assert.Contains("'norm.weight'", ex.Message);
        Assert.Contains("element 2", ex.Message);
        Assert.Contains("discard", ex.Message);
    }
}
