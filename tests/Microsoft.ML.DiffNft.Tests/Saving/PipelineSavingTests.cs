using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Tests.Diffusion;
using Microsoft.ML.DiffNft.Tests.Reward;
using Microsoft.ML.DiffNft.Torch;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Saving;

/// <summary>
/// <c>mlContext.Model.SaveDiffNft</c> / <c>LoadDiffNft</c>: chains mixing ML.NET and DiffNft transformers reload with
/// bit-identical outputs, failed saves leave nothing behind, and damaged files give errors naming the file.
/// </summary>
[Collection(TorchGlobalRngCollection.Name)]
public sealed class PipelineSavingTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private sealed class PromptRow
    {
        public string Prompt { get; set; } = "";
    }

    private static IDataView CrypToadz(MLContext ml) =>
        ml.Data.LoadNftCollection(Path.Combine(AppContext.BaseDirectory, "data", "cryptoadz"));

    // The RarityPipeline example's model: rarity → one-hot traits → concatenate → SDCA logistic regression.
    private static (ITransformer Model, IDataView Test) RarityOneHotSdca(MLContext ml)
    {
        var data = CrypToadz(ml);
        string[] traits = ml.Data.GetNftTraitColumnNames(data);
        var pipeline = ml.Transforms.DiffNft.ComputeTraitRarity()
            .Append(ml.Transforms.Categorical.OneHotEncoding(traits.Select(c => new InputOutputColumnPair(c + "_onehot", c)).ToArray()))
            .Append(ml.Transforms.Concatenate("Features", traits.Select(c => c + "_onehot").ToArray()))
            .Append(ml.BinaryClassification.Trainers.SdcaLogisticRegression(labelColumnName: "IsRare", featureColumnName: "Features", maximumNumberOfIterations: 5));
        var split = ml.Data.TrainTestSplit(data, testFraction: 0.2, seed: 1);
        return (pipeline.Fit(split.TrainSet), split.TestSet);
    }

    [Fact]
    public void RarityOneHotSdcaReloadsWithBitIdenticalPredictions()
    {
        var ml = new MLContext(seed: 1);
        var (model, test) = RarityOneHotSdca(ml);
        string path = Path.Combine(_dir.Path, "model.zip");
        ml.Model.SaveDiffNft(model, test.Schema, path);
        Assert.Equal(["model.zip"], Directory.GetFiles(_dir.Path).Select(Path.GetFileName));

        var loaded = new MLContext(seed: 2).Model.LoadDiffNft(path, out var schema);
        Assert.NotNull(schema);
        // ML.NET's schema writer stores every column but the image one (as with mlContext.Model.Save).
        Assert.Equal(test.Schema.Where(c => c.Name != "Image").Select(c => (c.Name, c.Type.ToString())), schema!.Select(c => (c.Name, c.Type.ToString())));
        var expected = model.Transform(test);
        var actual = loaded.Transform(test);
        foreach (var column in new[] { "Score", "Probability", "RarityScore" })
            Assert.Equal(expected.GetColumn<float>(column).ToArray(), actual.GetColumn<float>(column).ToArray());
        Assert.Equal(expected.GetColumn<bool>("PredictedLabel").ToArray(), actual.GetColumn<bool>("PredictedLabel").ToArray());

        // Saving the reloaded model again gives the same parts, and the same bytes for the DiffNft part (ML.NET's own
        // files carry timestamps, so only their kind is compared).
        string again = Path.Combine(_dir.Path, "again.zip");
        ml.Model.SaveDiffNft(loaded, schema, again);
        var parts = Manifest(path)["parts"]!.AsArray();
        var partsAgain = Manifest(again)["parts"]!.AsArray();
        Assert.Equal(new[] { "trait-rarity", "mlnet" }, parts.Select(p => (string)p!["kind"]!));
        Assert.Equal(parts.Select(p => (string)p!["kind"]!), partsAgain.Select(p => (string)p!["kind"]!));
        Assert.Equal((string)parts[0]!["sha256"]!, (string)partsAgain[0]!["sha256"]!);
    }

    [Fact]
    public void NestedChainsPureMLNetChainsAndSingleTransformersSaveToo()
    {
        var ml = new MLContext(seed: 1);
        var data = CrypToadz(ml);
        var rarity = ml.Transforms.DiffNft.ComputeTraitRarity(rareQuantile: 0.1).Fit(data);
        var copy = ml.Transforms.CopyColumns("Copy", "RarityScore").Fit(rarity.Transform(data));
        var nested = new TransformerChain<ITransformer>(new TransformerChain<ITransformer>(rarity), copy);
        var pure = ml.Transforms.CopyColumns("Id2", "TokenId").Fit(data);

        foreach (var (name, model) in new (string, ITransformer)[] { ("nested", nested), ("pure", pure), ("single", rarity) })
        {
            string path = Path.Combine(_dir.Path, name + ".zip");
            ml.Model.SaveDiffNft(model, data.Schema, path);
            var loaded = ml.Model.LoadDiffNft(path, out _);
            Assert.Equal(Dump(model.Transform(data)), Dump(loaded.Transform(data)));
        }

        // The transformer's own file (rarity JSON) loads through the same call, without a schema.
        string json = Path.Combine(_dir.Path, "rarity.json");
        rarity.Save(json);
        var fromJson = ml.Model.LoadDiffNft(json, out var none);
        Assert.Null(none);
        Assert.Equal(Dump(rarity.Transform(data)), Dump(fromJson.Transform(data)));
    }

    [Fact]
    public void AChainWithTheRewardScorerReloadsWithIdenticalScores()
    {
        var ml = new MLContext(seed: 1);
        var labelled = RewardTestData.Make(24, seed: 3);
        var view = labelled.Collection.ToDataView();
        var rewardModel = RewardTestData.Train(labelled, RewardTestData.Options(steps: 2));
        var rarity = ml.Transforms.DiffNft.ComputeTraitRarity().Fit(view);
        // Non-default options: they must round-trip for the outputs to match.
        using var scorer = new RarityRewardScorerTransformer(ml, rewardModel,
            new RarityRewardScorerOptions { RewardColumnName = "R", RewardKind = RarityRewardKind.RareLogit, Device = DiffNftDevice.Cpu });
        var scored = scorer.Transform(rarity.Transform(view));
        var concat = ml.Transforms.Concatenate("Both", "R", "RarityScore").Fit(scored);
        var chain = new TransformerChain<ITransformer>(rarity, scorer, concat);

        string path = Path.Combine(_dir.Path, "reward-chain.zip");
        ml.Model.SaveDiffNft(chain, view.Schema, path);
        Assert.Equal(new[] { "trait-rarity", "rarity-reward", "mlnet" }, Manifest(path)["parts"]!.AsArray().Select(p => (string)p!["kind"]!));

        var loaded = (TransformerChain<ITransformer>)ml.Model.LoadDiffNft(path, out _);
        try
        {
            var expected = chain.Transform(view);
            var actual = loaded.Transform(view);
            Assert.Equal(expected.GetColumn<float>("R").ToArray(), actual.GetColumn<float>("R").ToArray());
            Assert.Equal(expected.GetColumn<float>("RareProbability").ToArray(), actual.GetColumn<float>("RareProbability").ToArray());
            Assert.Equal(expected.GetColumn<VBuffer<float>>("Both").Select(v => v.DenseValues().ToArray()),
                actual.GetColumn<VBuffer<float>>("Both").Select(v => v.DenseValues().ToArray()));
        }
        finally
        {
            foreach (var t in loaded) (t as IDisposable)?.Dispose();
        }

        // The scorer alone: Save(path) keeps its options, and LoadRarityReward without options uses them.
        string alone = Path.Combine(_dir.Path, "scorer.diffnft-reward");
        scorer.Save(alone);
        using var reloaded = ml.Transforms.DiffNft.LoadRarityReward(alone);
        Assert.Equal(scorer.Options with { Device = DiffNftDevice.Auto }, reloaded.Options);
        Assert.Equal(scored.GetColumn<float>("R").ToArray(), reloaded.Transform(view).GetColumn<float>("R").ToArray());
    }

    [Fact]
    public void AGeneratorReloadsWithIdenticalImages()
    {
        var (images, captions) = DiffusionTrainingTests.Blocks(8);
        var ml = new MLContext(seed: 1);
        var model = new DiffusionTrainer(new DiffusionTrainerOptions { Preset = DiffusionPreset.Tiny, BatchSize = 4, MaxSteps = 1, Device = DiffNftDevice.Cpu }).Train(images, captions);
        using var generator = new DiffusionGeneratorTransformer(ml, model, new GeneratorOptions
        {
            ImageColumnName = "Img", Seed = 7, Generation = new SamplingOptions { Steps = 2, GuidanceScale = 1.5, Eta = 0.5 },
        });
        var prompts = ml.Data.LoadFromEnumerable(new[] { new PromptRow { Prompt = captions[0] }, new PromptRow { Prompt = captions[1] } });

        string path = Path.Combine(_dir.Path, "generator.zip");
        ml.Model.SaveDiffNft(generator, prompts.Schema, path);
        var loaded = (TransformerChain<ITransformer>)ml.Model.LoadDiffNft(path, out _);
        using var loadedGenerator = Assert.IsType<DiffusionGeneratorTransformer>(Assert.Single(loaded));
        Assert.Equal(generator.Options with { Device = DiffNftDevice.Auto }, loadedGenerator.Options);
        Assert.Equal(Pixels(generator.Transform(prompts)), Pixels(loaded.Transform(prompts)));

        string alone = Path.Combine(_dir.Path, "generator.diffnft");
        generator.Save(alone);
        using var viaCatalog = ml.Transforms.DiffNft.LoadDiffusionGenerator(alone);
        Assert.Equal(Pixels(generator.Transform(prompts)), Pixels(viaCatalog.Transform(prompts)));
    }

    [Fact]
    public void AFailedSaveLeavesNoFileAndNoTemporaryFile()
    {
        var ml = new MLContext(seed: 1);
        var data = CrypToadz(ml);
        var rarity = ml.Transforms.DiffNft.ComputeTraitRarity().Fit(data);

        // A transformer that cannot be saved, after one that can: nothing is written.
        string path = Path.Combine(_dir.Path, "model.zip");
        var chain = new TransformerChain<ITransformer>(rarity, new UnsaveableTransformer());
        var ex = Assert.Throws<InvalidOperationException>(() => ml.Model.SaveDiffNft(chain, data.Schema, path));
        Assert.Contains(path, ex.Message);
        Assert.Contains(nameof(UnsaveableTransformer), ex.Message);
        Assert.Empty(Directory.GetFileSystemEntries(_dir.Path));

        // The target is a directory: the rename fails, and the temporary file is removed.
        string folder = Path.Combine(_dir.Path, "folder");
        Directory.CreateDirectory(folder);
        Assert.ThrowsAny<IOException>(() => ml.Model.SaveDiffNft(rarity, data.Schema, folder));
        Assert.Equal([folder], Directory.GetFileSystemEntries(_dir.Path));
        Assert.Empty(Directory.GetFileSystemEntries(folder));

        // An earlier file under the name survives a failed save unchanged.
        ml.Model.SaveDiffNft(rarity, data.Schema, path);
        byte[] before = File.ReadAllBytes(path);
        Assert.Throws<InvalidOperationException>(() => ml.Model.SaveDiffNft(chain, data.Schema, path));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(2, Directory.GetFileSystemEntries(_dir.Path).Length);
    }

    [Fact]
    public void MLNetModelSavePointsToSaveDiffNft()
    {
        var ml = new MLContext(seed: 1);
        var (model, test) = RarityOneHotSdca(ml);
        var ex = Assert.Throws<NotSupportedException>(() => ml.Model.Save(model, test.Schema, Path.Combine(_dir.Path, "mlnet.zip")));
        Assert.Contains("mlContext.Model.SaveDiffNft", ex.Message);
    }

    [Theory]
    [InlineData("version", "newer Microsoft.ML.DiffNft")]
    [InlineData("kind", "kind 'evil', which this build does not know")]
    [InlineData("hash", "fails its SHA-256 check")]
    [InlineData("extra", "entry 'extra.bin' is not listed in the manifest")]
    [InlineData("format", "has format 'other'")]
    public void DamagedFilesGiveAnErrorNamingTheFile(string damage, string expected)
    {
        var ml = new MLContext(seed: 1);
        var data = CrypToadz(ml);
        var chain = ml.Transforms.DiffNft.ComputeTraitRarity().Append(ml.Transforms.CopyColumns("Copy", "RarityScore")).Fit(data);
        string path = Path.Combine(_dir.Path, "model.zip");
        ml.Model.SaveDiffNft(chain, data.Schema, path);

        Rewrite(path, entries =>
        {
            var manifest = JsonNode.Parse(entries["diffnft-pipeline.json"])!;
            switch (damage)
            {
                case "version": manifest["version"] = 2; break;
                case "kind": manifest["parts"]![0]!["kind"] = "evil"; break;
                case "format": manifest["format"] = "other"; break;
                case "hash":
                    string entry = (string)manifest["parts"]![0]!["entry"]!;
                    entries[entry] = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(entries[entry]).Replace("\"RarityRank\"", "\"RarityRenk\""));
                    break;
                case "extra": entries["extra.bin"] = [1, 2, 3]; break;
            }
            entries["diffnft-pipeline.json"] = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        });
        var ex = Assert.Throws<InvalidDataException>(() => ml.Model.LoadDiffNft(path, out _));
        Assert.Contains($"Model file '{path}'", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void AFlippedByteGivesAnErrorNamingTheFile()
    {
        var ml = new MLContext(seed: 1);
        var (model, test) = RarityOneHotSdca(ml);
        string path = Path.Combine(_dir.Path, "model.zip");
        ml.Model.SaveDiffNft(model, test.Schema, path);
        byte[] original = File.ReadAllBytes(path);
        // A byte in the middle of every entry's stored data (manifest, schema and each part). Zip metadata such as a local
        // header's timestamp carries nothing the pipeline reads, so it is not what this test damages.
        var payloads = EntryPayloads(original);
        Assert.True(payloads.Count >= 4, $"expected the manifest, the schema and at least two parts, found {payloads.Count} entries");
        foreach (var (name, offset, length) in payloads)
        {
            var bytes = (byte[])original.Clone();
            bytes[offset + length / 2] ^= 0x5A;
            File.WriteAllBytes(path, bytes);
            var ex = Assert.Throws<InvalidDataException>(() => ml.Model.LoadDiffNft(path, out _));
            Assert.True(ex.Message.Contains(path, StringComparison.Ordinal), $"flipping a byte of '{name}': {ex.Message}");
        }
    }

    // The (name, data offset, compressed length) of each entry, read from the zip's local file headers.
    private static List<(string Name, int Offset, int Length)> EntryPayloads(byte[] zip)
    {
        var result = new List<(string, int, int)>();
        int at = 0;
        while (at + 30 <= zip.Length && BitConverter.ToUInt32(zip, at) == 0x04034b50)
        {
            int compressed = BitConverter.ToInt32(zip, at + 18);
            int nameLength = BitConverter.ToUInt16(zip, at + 26), extraLength = BitConverter.ToUInt16(zip, at + 28);
            string name = System.Text.Encoding.UTF8.GetString(zip, at + 30, nameLength);
            int data = at + 30 + nameLength + extraLength;
            if (compressed > 0) result.Add((name, data, compressed));
            at = data + compressed;
        }
        return result;
    }

    private static JsonNode Manifest(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        using var s = zip.GetEntry("diffnft-pipeline.json")!.Open();
        return JsonNode.Parse(s)!;
    }

    private static void Rewrite(string path, Action<Dictionary<string, byte[]>> change)
    {
        var entries = new Dictionary<string, byte[]>();
        using (var zip = ZipFile.OpenRead(path))
            foreach (var e in zip.Entries)
            {
                using var s = e.Open();
                using var ms = new MemoryStream();
                s.CopyTo(ms);
                entries[e.FullName] = ms.ToArray();
            }
        change(entries);
        File.Delete(path);
        using var output = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (name, bytes) in entries)
        {
            using var s = output.CreateEntry(name).Open();
            s.Write(bytes);
        }
    }

    // Every row's values of the columns with a primitive type (images and vectors are compared elsewhere), exactly.
    private static List<string> Dump(IDataView view)
    {
        var columns = view.Schema.Where(c => !c.IsHidden && MakeGetter(null, c) is not null).ToList();
        using var cursor = view.GetRowCursor(columns);
        var getters = columns.Select(c => MakeGetter(cursor, c)!).ToList();
        var rows = new List<string>();
        while (cursor.MoveNext()) rows.Add(string.Join("|", getters.Select(g => g())));
        return rows;
    }

    private static Func<string>? MakeGetter(DataViewRowCursor? cursor, DataViewSchema.Column column)
    {
        var t = column.Type.RawType;
        if (t == typeof(float)) return Getter<float>(cursor, column, v => v.ToString("R"));
        if (t == typeof(double)) return Getter<double>(cursor, column, v => v.ToString("R"));
        if (t == typeof(int)) return Getter<int>(cursor, column, v => v.ToString());
        if (t == typeof(bool)) return Getter<bool>(cursor, column, v => v.ToString());
        if (t == typeof(ReadOnlyMemory<char>)) return Getter<ReadOnlyMemory<char>>(cursor, column, v => v.ToString());
        return null;
    }

    private static Func<string> Getter<T>(DataViewRowCursor? cursor, DataViewSchema.Column column, Func<T, string> format)
    {
        if (cursor is null) return () => "";
        var g = cursor.GetGetter<T>(column);
        return () =>
        {
            T v = default!;
            g(ref v);
            return format(v);
        };
    }

    private static List<byte[]> Pixels(IDataView view) =>
        view.GetColumn<MLImage>(view.Schema.Last(c => c.Type.RawType == typeof(MLImage)).Name).Select(i => i.Pixels.ToArray()).ToList();

    // Stands for any transformer neither ML.NET nor DiffNft can save.
    private sealed class UnsaveableTransformer : ITransformer
    {
        public bool IsRowToRowMapper => true;

        public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => inputSchema;

        public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => throw new NotSupportedException();

        public IDataView Transform(IDataView input) => input;

        void ICanSaveModel.Save(ModelSaveContext ctx) => throw new NotSupportedException("This transformer cannot be saved.");
    }
}
