using System.Text;
using System.Text.Json.Nodes;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Tests.Collections;
using Microsoft.ML.DiffNft.Torch;
using Microsoft.ML.DiffNft.TraitClassification;
using Xunit;
using static Microsoft.ML.DiffNft.Tests.Evaluation.TraitClassifierTestData;

namespace Microsoft.ML.DiffNft.Tests.Evaluation;

/// <summary>The held-out trait classifier on a synthetic collection whose traits are known exactly.</summary>
[Collection(TorchGlobalRngCollection.Name)]
public sealed class TraitClassifierTests
{
    /// <summary>The held-out tokens, as the trainer splits them.</summary>
    private static List<NftToken> HeldOut() => new TraitClassifierTrainer(Options()).Split(Collection).HeldOut.ToList();

    [Fact]
    public void HeldOutTokensAreReadFarAboveChanceAndTheMetricsAgreeWithAnIndependentCount()
    {
        var model = Classifier;
        Assert.Equal(["Background", "Hat", "Eyes", "Mouth"], model.Heads.Select(h => h.TraitType));
        // Values seen in training, most frequent first; class 0 is "missing".
        Assert.Equal(5, model.Heads[0].ClassCount);
        Assert.Equal(["Cap", "Crown", "Bow"], model.Heads[1].Values);
        Assert.Null(model.Heads[1].ValueOf(0));

        var m = model.Metrics!;
        var heldOut = HeldOut();
        Assert.Equal(60, m.NHeldOut);
        Assert.Equal(240, m.NTrain);
        foreach (var h in m.Heads)
        {
            Assert.True(h.Accuracy >= 0.9, $"{h.TraitType}: held-out accuracy {h.Accuracy:F3}");
            // Chance is the majority class; every head here has a majority of at most 65 %.
            Assert.True(h.MajorityAccuracy <= 0.65 && h.Accuracy >= h.MajorityAccuracy + 0.3, $"{h.TraitType}: {h.Accuracy:F3} vs majority {h.MajorityAccuracy:F3}");
        }
        Assert.True(m.ExactMatchRate >= 0.8, $"exact match {m.ExactMatchRate:F3}");

        // Independent route: predict the held-out images and compare with their metadata.
        var predictions = model.Predict(heldOut.Select(t => t.Image!).ToList());
        for (int k = 0; k < model.Heads.Count; k++)
        {
            string type = model.Heads[k].TraitType;
            int right = heldOut.Zip(predictions).Count(p => p.First.Find(type)?.Value == p.Second.Heads[k].Value);
            Assert.Equal(m.Heads[k].Accuracy, right / (double)heldOut.Count, 12);
        }
        int exact = heldOut.Zip(predictions).Count(p => Enumerable.Range(0, model.Heads.Count).All(k => p.First.Find(model.Heads[k].TraitType)?.Value == p.Second.Heads[k].Value));
        Assert.Equal(m.ExactMatchRate, exact / (double)heldOut.Count, 12);
        // Rarity from decoded traits tracks the truth: exact readings give exact scores.
        Assert.True(m.RaritySpearman >= 0.8, $"rarity spearman {m.RaritySpearman}");
        Assert.True(m.RarityMae <= 0.1 * m.MeanTrueRarity, $"rarity MAE {m.RarityMae} against mean {m.MeanTrueRarity}");
        Assert.True(m.Steps > 0 && m.Epochs >= 24.9 && m.TrainSeconds > 0);

        // The split is by token: the same ids, fraction and seed give the same held-out tokens in any row order.
        var reversed = new NftCollection(Collection.Tokens.Reverse().ToList(), "reversed");
        Assert.Equal(heldOut.Select(t => t.TokenId).Order(), new TraitClassifierTrainer(Options()).Split(reversed).HeldOut.Select(t => t.TokenId).Order());
        Assert.Empty(new TraitClassifierTrainer(Options()).Split(Collection).Train.Select(t => t.TokenId).Intersect(heldOut.Select(t => t.TokenId)));
    }

    [Fact]
    public void NoiseIsUndecodableAndHeldOutTokensAreDecodable()
    {
        var decoder = new TraitClassifierDecoder(Classifier);
        Assert.Equal("trait-classifier", decoder.Name);
        var noise = decoder.Decode(Noise(40, seed: 9));
        Assert.All(noise, d => Assert.False(d.IsDecodable));
        // Noise of another size is resampled, and still undecodable.
        Assert.All(decoder.Decode(Noise(10, seed: 10, side: 36)), d => Assert.False(d.IsDecodable));

        var heldOut = HeldOut();
        var decoded = decoder.Decode(heldOut.Select(t => t.Image!).ToList());
        double rate = decoded.Count(d => d.IsDecodable) / (double)decoded.Count;
        Assert.True(rate >= 0.9, $"held-out decodable rate {rate:F3}");
        // The decoded attributes are the predicted values; a trait predicted missing is left out.
        var predictions = Classifier.Predict(heldOut.Select(t => t.Image!).ToList());
        for (int i = 0; i < heldOut.Count; i++)
        {
            var expected = Classifier.Heads.Zip(predictions[i].Heads).Where(p => p.Second.Value is not null).Select(p => (p.First.TraitType, p.Second.Value!));
            Assert.Equal(expected, decoded[i].Attributes.Select(a => (a.TraitType, a.Value)));
            Assert.Equal(predictions[i].MinProbability >= 0.5, decoded[i].IsDecodable);
        }
        // A threshold of 0 accepts everything, 1 (almost) nothing.
        Assert.All(new TraitClassifierDecoder(Classifier, 0).Decode(Noise(5, seed: 1)), d => Assert.True(d.IsDecodable));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TraitClassifierDecoder(Classifier, 1.5));
    }

    [Fact]
    public void SaveAndLoadGiveIdenticalPredictions()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "m.diffnft-traits");
        Classifier.Save(path);
        using var loaded = TraitClassifier.Load(path, DiffNftDevice.Cpu);
        Assert.Equal(Classifier.Architecture, loaded.Architecture);
        Assert.Equal(Classifier.Heads.Select(h => (h.TraitType, string.Join("|", h.Values))), loaded.Heads.Select(h => (h.TraitType, string.Join("|", h.Values))));
        Assert.Equal(Classifier.PixelMean, loaded.PixelMean);
        Assert.Equal(Classifier.PixelStd, loaded.PixelStd);
        Assert.Equal(Classifier.Metrics!.ToJson(), loaded.Metrics!.ToJson());
        var images = Collection.Tokens.Take(20).Select(t => t.Image!).Concat(Noise(5, seed: 2)).ToList();
        var a = Classifier.Predict(images);
        var b = loaded.Predict(images);
        for (int i = 0; i < images.Count; i++)
            Assert.Equal(a[i].Heads, b[i].Heads); // class, value and probability, bit for bit
        // Saving twice gives the same bytes (fixed timestamps, sorted entries).
        string again = Path.Combine(dir.Path, "again.diffnft-traits");
        loaded.Save(again);
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(again));
    }

    [Fact]
    public void DamagedFilesGiveErrorsThatNameTheFileAndTheProblem()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "m.diffnft-traits");
        Classifier.Save(path);

        string Rewrite(string name, Func<JsonObject, JsonObject> edit)
        {
            var entries = ModelArchive.Read(path);
            var manifest = JsonNode.Parse(entries["diffnft-model.json"])!.AsObject();
            entries["diffnft-model.json"] = Encoding.UTF8.GetBytes(edit(manifest).ToJsonString());
            string target = Path.Combine(dir.Path, name);
            ModelArchive.Write(target, entries);
            return target;
        }
        void Fails(string file, params string[] words)
        {
            var ex = Assert.Throws<InvalidDataException>(() => TraitClassifier.Load(file).Dispose());
            Assert.Contains(file, ex.Message);
            foreach (var w in words) Assert.Contains(w, ex.Message);
        }

        Fails(Rewrite("format.bin", j => { j["format"] = "diffnft.reward"; return j; }), "diffnft.trait-classifier");
        Fails(Rewrite("version.bin", j => { j["version"] = 2; return j; }), "version 2");
        // One value fewer: the head layer no longer has the saved shape.
        Fails(Rewrite("vocabulary.bin", j => { j["heads"]![1]!["values"]!.AsArray().RemoveAt(2); return j; }), "heads.weight", "shape");
        Fails(Rewrite("duplicate.bin", j => { j["heads"]![1]!["values"]![1] = " cap"; return j; }), "Hat", "twice");
        Fails(Rewrite("std.bin", j => { j["pixel_std"]![0] = 0; return j; }), "pixel_std");
        Fails(Rewrite("size.bin", j => { j["architecture"]!["image_size"] = 100000; return j; }), "ImageSize");
        Fails(Rewrite("noheads.bin", j => { j.Remove("heads"); return j; }), "heads");

        var entries = ModelArchive.Read(path);
        entries.Remove("weights.safetensors");
        string noWeights = Path.Combine(dir.Path, "noweights.bin");
        ModelArchive.Write(noWeights, entries);
        Fails(noWeights, "weights.safetensors");

        ArchiveFuzz.EveryDamagedCopyLoadsOrNamesTheFile(path, seed: 5, p => TraitClassifier.Load(p), trials: 20);
    }

    [Fact]
    public void TrainingIsReproducibleAndBadInputIsNamed()
    {
        var options = Options(epochs: 1) with { HiddenSize = 16 };
        var small = Make(40, seed: 8);
        using var a = new TraitClassifierTrainer(options).Train(small);
        using var b = new TraitClassifierTrainer(options).Train(small);
        var images = small.Tokens.Select(t => t.Image!).ToList();
        Assert.Equal(a.Predict(images).SelectMany(p => p.Heads), b.Predict(images).SelectMany(p => p.Heads));
        Assert.Equal(a.Metrics!.ExactMatchRate, b.Metrics!.ExactMatchRate);

        var bare = new NftCollection([new NftToken("x", [new NftAttribute("Hat", "Cap")]), new NftToken("y", [])], "bare");
        var ex = Assert.Throws<ArgumentException>(() => new TraitClassifierTrainer(options).Train(bare));
        Assert.Contains("token 'x' has no image", ex.Message);

        var numericOnly = new NftCollection(small.Tokens.Select(t => new NftToken(t.TokenId, [new NftAttribute("Level", "3", NftValueKind.Number)]) { Image = t.Image }).ToList(), "levels");
        ex = Assert.Throws<ArgumentException>(() => new TraitClassifierTrainer(options).Train(numericOnly));
        Assert.Contains("no non-numeric trait value", ex.Message);

        Assert.Throws<ArgumentOutOfRangeException>(() => new TraitClassifierTrainer(options with { HoldoutFraction = 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TraitClassifierTrainer(options with { Width = 6 }));
    }
}
