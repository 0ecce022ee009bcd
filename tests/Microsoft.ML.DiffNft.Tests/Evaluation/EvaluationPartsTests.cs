using Microsoft.ML.DiffNft.Collections.Nouns;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Onnx;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Tests.Nouns;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Evaluation;

/// <summary>The evaluation's small parts: resampling, the protobuf reader, duplicates, folder loading.</summary>
public sealed class EvaluationPartsTests
{
    [Fact]
    public void IntegerEnlargementIsExactlyNearestNeighbour()
    {
        var noun = NounsRenderer.Render(new NounSeed(1, 28, 120, 95, 15));
        var resampled = FeatureImageResampler.Resample(noun, 224);
        NounsTestData.AssertSameRgb(noun.ScaleNearest(7), resampled);
    }

    [Fact]
    public void ReductionAveragesAreasAndAlphaGoesOntoWhite()
    {
        // A 448×448 checkerboard of 1-pixel black and white squares halves to uniform mid-grey.
        var checker = new RgbaImage(448, 448);
        for (int y = 0; y < 448; y++) for (int x = 0; x < 448; x++) { byte v = (byte)((x + y) % 2 == 0 ? 0 : 255); checker.SetPixel(x, y, v, v, v); }
        var planes = new float[3 * 224 * 224];
        FeatureImageResampler.ToRgbPlanes(checker, 224, planes);
        Assert.All(planes, v => Assert.Equal(127.5f, v, 3));

        // Half-transparent red over white: (255, 127.5, 127.5); fully transparent: white.
        var sprite = new RgbaImage(2, 1);
        sprite.SetPixel(0, 0, 255, 0, 0, 128);
        sprite.SetPixel(1, 0, 10, 20, 30, 0);
        var p = new float[3 * 4];
        FeatureImageResampler.ToRgbPlanes(sprite, 2, p);
        Assert.Equal(255f, p[0], 3);
        Assert.Equal(255f * (1 - 128 / 255f), p[4], 3);
        Assert.Equal(255f, p[1], 3);
        Assert.Equal(255f, p[5], 3);
    }

    [Fact]
    public void NonIntegerScalesKeepAConstantImageConstant()
    {
        var flat = new RgbaImage(36, 50);
        flat.Fill(40, 90, 200);
        var planes = new float[3 * 224 * 224];
        FeatureImageResampler.ToRgbPlanes(flat, 224, planes);
        Assert.All(planes.AsSpan(0, 224 * 224).ToArray(), v => Assert.Equal(40f, v, 3));
        Assert.All(planes.AsSpan(2 * 224 * 224).ToArray(), v => Assert.Equal(200f, v, 3));
    }

    [Fact]
    public void ProtobufReaderDecodesVarintsPackedRunsAndNamesTheOffsetOfTruncation()
    {
        // field 1 varint 150; field 2 varint −1 (10 bytes); field 3 packed [1, 300]; field 3 unpacked 7; field 4 string "hi".
        byte[] bytes = [0x08, 0x96, 0x01, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01,
                        0x1A, 0x03, 0x01, 0xAC, 0x02, 0x18, 0x07, 0x22, 0x02, (byte)'h', (byte)'i'];
        var r = new ProtobufReader(bytes, "test");
        Assert.True(r.TryReadKey(out int f, out var wt));
        Assert.Equal((1, WireType.Varint), (f, wt));
        Assert.Equal(150, r.ReadInt64());
        r.TryReadKey(out f, out wt);
        Assert.Equal(-1, r.ReadInt64());
        var values = new List<long>();
        r.TryReadKey(out f, out wt);
        r.ReadRepeatedInt64(wt, values);
        r.TryReadKey(out f, out wt);
        r.ReadRepeatedInt64(wt, values);
        Assert.Equal([1L, 300L, 7L], values);
        r.TryReadKey(out f, out wt);
        Assert.Equal("hi", r.ReadString());
        Assert.False(r.TryReadKey(out _, out _));

        var truncated = new ProtobufReader(new byte[] { 0x22, 0x05, (byte)'h' }, "model.onnx");
        truncated.TryReadKey(out _, out _);
        InvalidDataException? ex = null;
        try { truncated.ReadBytes(); } catch (InvalidDataException e) { ex = e; }
        Assert.NotNull(ex);
        Assert.Contains("'model.onnx'", ex!.Message);
        Assert.Contains("at byte 1", ex.Message);
    }

    [Fact]
    public void AnOnnxFileThatIsNotAModelIsRejectedClearly()
    {
        var ex = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(new byte[] { 0x08, 0x03 }, "empty.onnx"));
        Assert.Contains("no graph", ex.Message);
        ex = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(new byte[] { 0x0B }, "group.onnx"));
        Assert.Contains("wire type 3", ex.Message);
    }

    [Theory]
    [InlineData("SAME_UPPER", 0, 0, 1, 1, 3)]  // 6 → 3 with kernel 3, stride 2: one pad cell, at the end
    [InlineData("SAME_LOWER", 1, 1, 0, 0, 3)]  // … or at the beginning
    [InlineData("VALID", 0, 0, 0, 0, 2)]
    public void AutoPadEqualsTheExplicitPadsItStandsFor(string autoPad, long top, long left, long bottom, long right, long size)
    {
        var rng = new Random(3);
        var w = new OnnxTensor("w", [2, 1, 3, 3], Enumerable.Range(0, 18).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray());
        static OnnxAttribute Ints(string name, params long[] v) => new(name, 7, 0, 0, "", [], v, null);
        OnnxModel Conv(OnnxAttribute padding)
        {
            var attributes = new Dictionary<string, OnnxAttribute>
            {
                ["kernel_shape"] = Ints("kernel_shape", 3, 3),
                ["strides"] = Ints("strides", 2, 2),
                [padding.Name] = padding,
            };
            var graph = new OnnxGraph("g", [new OnnxNode("c", "Conv", "", ["x", "w"], ["y"], attributes)],
                new Dictionary<string, OnnxTensor> { ["w"] = w },
                [new OnnxValueInfo("x", 1, [1, 1, 6, 6])], [new OnnxValueInfo("y", 1, [])]);
            return new OnnxModel(3, "test", "", new Dictionary<string, long> { [""] = 8 }, graph);
        }
        using var scope = TorchSharp.torch.NewDisposeScope();
        var x = TorchSharp.torch.tensor(Enumerable.Range(0, 72).Select(i => (float)Math.Sin(i)).ToArray(), [2, 1, 6, 6]);
        using var auto = new TorchOnnxGraph(Conv(new OnnxAttribute("auto_pad", 3, 0, 0, autoPad, [], [], null)), "auto", TorchSharp.torch.CPU);
        using var explicitPads = new TorchOnnxGraph(Conv(Ints("pads", top, left, bottom, right)), "explicit", TorchSharp.torch.CPU);
        var ya = auto.Run(x);
        var yb = explicitPads.Run(x);
        Assert.Equal([2L, 2, size, size], ya.shape); // a batch of 2 runs though the graph declares 1
        Assert.True(ya.allclose(yb, 0, 0), $"{autoPad}: auto-padded convolution differs from explicit pads [{top},{left},{bottom},{right}]");
        // Asymmetric explicit pads are honoured, not rounded to symmetric ones: the top-left output sees no padding.
        if (top == 0 && bottom == 1)
        {
            float manual = 0;
            var wd = w.Data;
            var xd = x[0, 0].data<float>().ToArray();
            for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) manual += wd[i * 3 + j] * xd[i * 6 + j];
            Assert.Equal(manual, ya[0, 0, 0, 0].item<float>(), 5);
        }
    }

    [Fact]
    public void DuplicatesNeedSameSizeAndEveryChannelWithinTolerance()
    {
        var a = NounsRenderer.Render(new NounSeed(0, 1, 2, 3, 4));
        var b = NounsRenderer.Render(new NounSeed(0, 1, 2, 3, 5)); // another pair of glasses: a few pixels differ, strongly
        var rng = new Random(1);
        var images = new List<RgbaImage> { a, b, NounsTestData.AddNoise(a, 1, rng), a.ScaleNearest(2), a.Clone() };
        int duplicates = DuplicateDetector.CountDuplicates(images, new string?[images.Count], 16, default);
        Assert.Equal(2, duplicates); // the noisy copy and the exact copy of a; the 64×64 enlargement differs in size
        // Equal trait keys make duplicates even when the pixels differ.
        Assert.Equal(3, DuplicateDetector.CountDuplicates(images, ["x", "x", null, null, null], 16, default));
    }

    [Fact]
    public void ImageFoldersLoadInNaturalOrderPreferringImagesSubfolder()
    {
        using var dir = new NounsTestData.TempDir();
        var images = Path.Combine(dir.Path, "images");
        for (int i = 0; i < 12; i++)
        {
            var img = new RgbaImage(4, 4);
            img.Fill((byte)i, 0, 0);
            PngCodec.Save(img, Path.Combine(images, $"{i}.png"));
        }
        PngCodec.Save(new RgbaImage(8, 8), Path.Combine(dir.Path, "grid.png")); // the contact sheet is not an image of the set
        var loaded = EvaluationData.LoadImageFolder(dir.Path);
        Assert.Equal(12, loaded.Count);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"{i}.png"), loaded.Tokens.Select(t => t.TokenId));
        Assert.Equal(11, loaded.Tokens[11].Image!.Pixels[0]);
        // No metadata: a plain reference, without traits.
        Assert.Empty(EvaluationData.LoadReference(dir.Path).TraitTypes);
        var missing = Assert.Throws<DirectoryNotFoundException>(() => EvaluationData.LoadImageFolder(Path.Combine(dir.Path, "nope")));
        Assert.Contains("nope", missing.Message);
        Directory.CreateDirectory(Path.Combine(dir.Path, "empty"));
        Assert.Contains("holds no images", Assert.Throws<InvalidDataException>(() => EvaluationData.LoadImageFolder(Path.Combine(dir.Path, "empty"))).Message);
    }
}
