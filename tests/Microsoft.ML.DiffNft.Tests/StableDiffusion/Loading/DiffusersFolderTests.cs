using Microsoft.ML.DiffNft.StableDiffusion.Loading;
using Microsoft.ML.DiffNft.Tests.Nouns;
using Microsoft.ML.DiffNft.Torch;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Loading;

public class DiffusersFolderTests
{
    public DiffusersFolderTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void ReadsModelIndexComponentsConfigsAndWeights()
    {
        using var dir = new NounsTestData.TempDir();
        string root = PipelineFolderBuilder.Write(Path.Combine(dir.Path, "sd"));
        var folder = DiffusersFolder.Open(root);
        Assert.Equal("StableDiffusionPipeline", folder.ClassName);
        Assert.Equal("0.6.0", folder.DiffusersVersion);
        Assert.Equal(["feature_extractor", "safety_checker", "scheduler", "text_encoder", "tokenizer", "unet", "vae"],
            folder.Components.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(new DiffusersComponent("unet", "diffusers", "UNet2DConditionModel"), folder.Component("unet"));
        Assert.True(folder.Components["safety_checker"].IsAbsent);
        Assert.Contains("\"sample_size\": 32", folder.ReadConfigJson("unet"));
        Assert.Equal(Path.Combine(root, "tokenizer"), folder.TokenizerFolder());
        Assert.Equal(Path.Combine(root, "unet", "diffusion_pytorch_model.safetensors"), Assert.Single(folder.FindWeights("unet").Files));
        // transformers components use the "model" stem.
        Assert.Equal(Path.Combine(root, "text_encoder", "model.safetensors"), Assert.Single(folder.FindWeights("text_encoder").Files));
        // Its model_index.json is accepted in place of the folder.
        Assert.Equal(root, DiffusersFolder.Open(Path.Combine(root, "model_index.json")).Path);
    }

    [Fact]
    public void AVariantIsPreferredWhenAskedAndThePlainWeightsOtherwise()
    {
        using var dir = new NounsTestData.TempDir();
        string root = PipelineFolderBuilder.Write(Path.Combine(dir.Path, "sd"));
        string fp16 = Path.Combine(root, "vae", "diffusion_pytorch_model.fp16.safetensors");
        PipelineFolderBuilder.WriteWeights(fp16, 0, SafeTensorsDType.F16);
        var folder = DiffusersFolder.Open(root);
        var w = folder.FindWeights("vae", "fp16");
        Assert.Equal(fp16, Assert.Single(w.Files));
        Assert.Equal("fp16", w.Variant);
        Assert.EndsWith("diffusion_pytorch_model.safetensors", Assert.Single(folder.FindWeights("vae").Files));
        // No fp16 file for the unet: the plain weights, marked as such.
        var unet = folder.FindWeights("unet", "fp16");
        Assert.Null(unet.Variant);
        Assert.EndsWith("diffusion_pytorch_model.safetensors", Assert.Single(unet.Files));
        Assert.Throws<ArgumentException>(() => folder.FindWeights("unet", "../x"));
    }

    [Theory]
    [InlineData(null, "diffusion_pytorch_model.safetensors.index.json", "diffusion_pytorch_model")]
    [InlineData("fp16", "diffusion_pytorch_model.safetensors.index.fp16.json", "diffusion_pytorch_model.fp16")]
    [InlineData("fp16", "diffusion_pytorch_model.safetensors.fp16.index.json", "diffusion_pytorch_model.fp16")]
    [InlineData("fp16", "diffusion_pytorch_model.fp16.safetensors.index.json", "diffusion_pytorch_model.fp16")]
    public void ShardedWeightsAreFoundThroughTheirIndex(string? variant, string indexName, string shardPrefix)
    {
        using var dir = new NounsTestData.TempDir();
        string root = PipelineFolderBuilder.Write(Path.Combine(dir.Path, "sd"), weights: false);
        PipelineFolderBuilder.WriteSharded(Path.Combine(root, "unet"), indexName, shardPrefix, 0);
        var w = DiffusersFolder.Open(root).FindWeights("unet", variant);
        Assert.Equal(Path.Combine(root, "unet", indexName), w.IndexFile);
        Assert.Equal(2, w.Files.Count);
        Assert.Equal(TinyNet.Layout.Length, w.WeightMap!.Count);
        Assert.Equal(w.Files[0], w.WeightMap["proj.weight"]);
        Assert.Equal(w.Files[1], w.WeightMap["position_ids"]);
    }

    [Fact]
    public void ShardIndexMistakesNameTheIndex()
    {
        using var dir = new NounsTestData.TempDir();
        string root = PipelineFolderBuilder.Write(Path.Combine(dir.Path, "sd"), weights: false);
        string unet = Path.Combine(root, "unet");
        string index = Path.Combine(unet, "diffusion_pytorch_model.safetensors.index.json");
        PipelineFolderBuilder.WriteSharded(unet, Path.GetFileName(index), "diffusion_pytorch_model", 0);
        var folder = DiffusersFolder.Open(root);

        string shard2 = Path.Combine(unet, "diffusion_pytorch_model-00002-of-00002.safetensors");
        File.Move(shard2, shard2 + ".moved");
        var missing = Assert.Throws<FileNotFoundException>(() => folder.FindWeights("unet"));
        Assert.Contains(index, missing.Message);
        Assert.Contains("diffusion_pytorch_model-00002-of-00002.safetensors", missing.Message);
        File.Move(shard2 + ".moved", shard2);

        string good = File.ReadAllText(index);
        File.WriteAllText(index, good.Replace("\"weight_map\": {", "\"weight_map\": {\"proj.bias\": \"diffusion_pytorch_model-00002-of-00002.safetensors\", "));
        Assert.Contains("'proj.bias' is listed twice", Assert.Throws<InvalidDataException>(() => folder.FindWeights("unet")).Message);

        File.WriteAllText(index, good.Replace("\"weight_map\": {", "\"weight_map\": {\"x\": \"../../evil.safetensors\", "));
        Assert.Contains("same folder", Assert.Throws<InvalidDataException>(() => folder.FindWeights("unet")).Message);

        File.WriteAllText(index, "{\"weight_map\": {\"a\": \"s.safetensors\",}}");
        var json = Assert.Throws<InvalidDataException>(() => folder.FindWeights("unet"));
        Assert.Contains(index, json.Message);
        Assert.Contains("line 1", json.Message);

        File.WriteAllText(index, "{\"metadata\": {}}");
        Assert.Contains("'weight_map'", Assert.Throws<InvalidDataException>(() => folder.FindWeights("unet")).Message);
    }

    [Theory]
    [InlineData("diffusion_pytorch_model.bin")]
    [InlineData("diffusion_pytorch_model.ckpt")]
    [InlineData("diffusion_pytorch_model.fp16.bin")]
    public void PickleWeightsAreRefusedWithTheConversion(string pickle)
    {
        using var dir = new NounsTestData.TempDir();
        string root = PipelineFolderBuilder.Write(Path.Combine(dir.Path, "sd"), weights: false);
        File.WriteAllBytes(Path.Combine(root, "unet", pickle), [0x80, 0x02]);
        var ex = Assert.Throws<InvalidDataException>(() => DiffusersFolder.Open(root).FindWeights("unet", "fp16"));
        Assert.Contains(pickle, ex.Message);
        Assert.Contains("never opens pickle", ex.Message);
        Assert.Contains("safe_serialization=True", ex.Message);
    }

    [Fact]
    public void MissingPiecesAreNamed()
    {
        using var dir = new NounsTestData.TempDir();
        string root = PipelineFolderBuilder.Write(Path.Combine(dir.Path, "sd"), weights: false);
        var folder = DiffusersFolder.Open(root);
        var noWeights = Assert.Throws<FileNotFoundException>(() => folder.FindWeights("vae"));
        Assert.Contains(Path.Combine(root, "vae"), noWeights.Message);
        Assert.Contains("diffusion_pytorch_model.safetensors", noWeights.Message);

        // Only a variant present, none asked for: the message says which variant there is.
        PipelineFolderBuilder.WriteWeights(Path.Combine(root, "vae", "diffusion_pytorch_model.fp16.safetensors"), 0);
        Assert.Contains("diffusion_pytorch_model.fp16.safetensors", Assert.Throws<FileNotFoundException>(() => folder.FindWeights("vae")).Message);

        File.Delete(Path.Combine(root, "unet", "config.json"));
        var noConfig = Assert.Throws<FileNotFoundException>(() => folder.ReadConfigJson("unet"));
        Assert.Contains(Path.Combine(root, "unet", "config.json"), noConfig.Message);

        Directory.Delete(Path.Combine(root, "text_encoder"), recursive: true);
        var noFolder = Assert.Throws<DirectoryNotFoundException>(() => folder.FindWeights("text_encoder"));
        Assert.Contains(Path.Combine(root, "text_encoder"), noFolder.Message);

        Assert.Contains("lists no component 'controlnet'", Assert.Throws<InvalidDataException>(() => folder.ComponentFolder("controlnet")).Message);
        Assert.Contains("[null, null]", Assert.Throws<InvalidDataException>(() => folder.ComponentFolder("safety_checker")).Message);
    }

    [Fact]
    public void BadConfigJsonNamesTheFileAndLine()
    {
        using var dir = new NounsTestData.TempDir();
        string root = PipelineFolderBuilder.Write(Path.Combine(dir.Path, "sd"), weights: false);
        string config = Path.Combine(root, "unet", "config.json");
        File.WriteAllText(config, "{\n  \"sample_size\": 32,\n  \"in_channels\": 4 4\n}");
        var ex = Assert.Throws<InvalidDataException>(() => DiffusersFolder.Open(root).ReadConfigJson("unet"));
        Assert.Contains(config, ex.Message);
        Assert.Contains("line 3", ex.Message);
        File.WriteAllText(config, "[1, 2]");
        Assert.Contains("JSON object", Assert.Throws<InvalidDataException>(() => DiffusersFolder.Open(root).ReadConfigJson("unet")).Message);
    }

    [Fact]
    public void ModelIndexMistakesAreNamed()
    {
        using var dir = new NounsTestData.TempDir();
        string root = PipelineFolderBuilder.Write(Path.Combine(dir.Path, "sd"), weights: false);
        string index = Path.Combine(root, "model_index.json");

        File.WriteAllText(index, "{\"_class_name\": \"StableDiffusionPipeline\", \"unet\": [\"diffusers\"]}");
        var pair = Assert.Throws<InvalidDataException>(() => DiffusersFolder.Open(root));
        Assert.Contains(index, pair.Message);
        Assert.Contains("'unet'", pair.Message);

        File.WriteAllText(index, "{\"_class_name\": \"P\", \"../escape\": [\"diffusers\", \"UNet2DConditionModel\"]}");
        Assert.Contains("plain folder name", Assert.Throws<InvalidDataException>(() => DiffusersFolder.Open(root)).Message);

        File.WriteAllText(index, "{\"unet\": [\"diffusers\", \"UNet2DConditionModel\"]}");
        Assert.Contains("_class_name", Assert.Throws<InvalidDataException>(() => DiffusersFolder.Open(root)).Message);

        File.WriteAllText(index, "{\"_class_name\": \"P\", ");
        Assert.Contains(index, Assert.Throws<InvalidDataException>(() => DiffusersFolder.Open(root)).Message);

        File.Delete(index);
        var none = Assert.Throws<FileNotFoundException>(() => DiffusersFolder.Open(root));
        Assert.Contains("no model_index.json", none.Message);
        Assert.Contains(root, none.Message);

        // A component folder passed instead of the pipeline folder.
        Assert.Contains("pipeline folder above it", Assert.Throws<FileNotFoundException>(() => DiffusersFolder.Open(Path.Combine(root, "unet"))).Message);
        Assert.Contains("does not exist", Assert.Throws<DirectoryNotFoundException>(() => DiffusersFolder.Open(Path.Combine(root, "nope"))).Message);
    }

    [Theory]
    [InlineData("v1-5-pruned-emaonly.safetensors", true)]
    [InlineData("v1-5-pruned-emaonly.ckpt", true)]
    [InlineData("v1-5-pruned-emaonly.ckpt", false)]
    public void ASingleFileCheckpointGetsTheConversionMessage(string name, bool passTheFile)
    {
        using var dir = new NounsTestData.TempDir();
        string file = Path.Combine(dir.Path, name);
        File.WriteAllBytes(file, [1, 2, 3]);
        var ex = Assert.Throws<InvalidDataException>(() => DiffusersFolder.Open(passTheFile ? file : dir.Path));
        Assert.Contains("single-file checkpoint", ex.Message);
        Assert.Contains("from_single_file", ex.Message);
        Assert.Contains(file, ex.Message);
    }
}
