using Microsoft.ML.DiffNft.StableDiffusion.Clip;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Clip;

public class ClipTextConfigTests
{
    // The keys of Stable Diffusion 1.5's text_encoder/config.json (values as published).
    private const string Sd15Json = """
        {
          "_name_or_path": "openai/clip-vit-large-patch14",
          "architectures": ["CLIPTextModel"],
          "attention_dropout": 0.0, "bos_token_id": 0, "dropout": 0.0, "eos_token_id": 2,
          "hidden_act": "quick_gelu", "hidden_size": 768, "initializer_factor": 1.0, "initializer_range": 0.02,
          "intermediate_size": 3072, "layer_norm_eps": 1e-05, "max_position_embeddings": 77, "model_type": "clip_text_model",
          "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 1, "projection_dim": 768,
          "torch_dtype": "float32", "transformers_version": "4.22.0.dev0", "vocab_size": 49408
        }
        """;

    [Fact]
    public void Sd15ConfigReadsAsPublished()
    {
        var c = ClipTextConfig.FromJson(Sd15Json, "sd15/text_encoder/config.json");
        Assert.Equal(ClipTextConfig.StableDiffusion15, c);
        Assert.Equal(1e-5, c.LayerNormEps);
        Assert.Equal((0, 1, 2), (c.BosTokenId, c.PadTokenId, c.EosTokenId));
        Assert.False(c.UseAttentionMask);
    }

    [Fact]
    public void MissingKeysTakeTransformersDefaultsAndGeluIsRead()
    {
        var c = ClipTextConfig.FromJson("""{"hidden_act": "gelu", "use_attention_mask": true}""");
        Assert.Equal((49408, 512, 2048, 12, 8, 77), (c.VocabSize, c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers, c.NumAttentionHeads, c.MaxPositionEmbeddings));
        Assert.Equal(ClipActivation.Gelu, c.HiddenAct);
        Assert.True(c.UseAttentionMask);
        Assert.Equal(ClipActivation.QuickGelu, ClipTextConfig.FromJson("{}").HiddenAct);
    }

    [Fact]
    public void UnsupportedActivationNamesKeyValueAndFile()
    {
        var ex = Assert.Throws<InvalidDataException>(() => ClipTextConfig.FromJson("""{"hidden_act": "gelu_new"}""", "x/text_encoder/config.json"));
        Assert.Contains("hidden_act", ex.Message);
        Assert.Contains("gelu_new", ex.Message);
        Assert.Contains("x/text_encoder/config.json", ex.Message);
    }

    [Theory]
    [InlineData("""{"hidden_size": 30, "num_attention_heads": 4}""", "num_attention_heads")]
    [InlineData("""{"num_hidden_layers": 0}""", "num_hidden_layers")]
    [InlineData("""{"vocab_size": "many"}""", "vocab_size")]
    [InlineData("""{"layer_norm_eps": -1}""", "layer_norm_eps")]
    [InlineData("""{"hidden_act": 3}""", "hidden_act")]
    [InlineData("""[1, 2]""", "JSON object")]
    [InlineData("""{"hidden_size": """, "not valid JSON")]
    public void InvalidConfigsAreRejectedNamingTheKey(string json, string expected)
    {
        var ex = Assert.Throws<InvalidDataException>(() => ClipTextConfig.FromJson(json, "cfg.json"));
        Assert.Contains(expected, ex.Message);
        Assert.Contains("cfg.json", ex.Message);
    }
}
