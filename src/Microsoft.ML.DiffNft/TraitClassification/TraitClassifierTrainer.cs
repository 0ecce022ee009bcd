using System.Diagnostics;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Rarity;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.TraitClassification;

/// <summary>
/// Trains a <see cref="TraitClassifier"/> on a collection's images and metadata, holding a share of the tokens out, and
/// measures it on them (<see cref="TraitClassifierMetrics"/>, stored with the model).
/// </summary>
/// <remarks>
/// <para><b>Heads.</b> One per trait type (numeric ones only with <see cref="TraitClassifierOptions.IncludeNumericTraits"/>),
/// in the collection's order; its classes are the values seen on training tokens (trimmed and lower-cased, as OpenRarity
/// compares them) plus "missing" for tokens without the trait type. A trait type no training token has gets no head.</para>
/// <para><b>Split.</b> By token: tokens ordered by a seeded hash of their id, the first ⌈f·N⌉ held out — the split of
/// the rarity reward trainer. Nothing about the held-out tokens is used in training, no model selection either: the
/// weights after the last step are the model, so the held-out metrics are unbiased.</para>
/// <para><b>Loss per step.</b> The mean over heads of the cross-entropy on the real images, plus
/// <see cref="TraitClassifierOptions.OutlierWeight"/> × the mean over heads of the cross-entropy between each head's
/// distribution on outlier images and the uniform distribution (outlier exposure, Hendrycks et al. 2019; see
/// <see cref="TraitClassifierOptions.OutlierFraction"/>). AdamW with linear warm-up and cosine decay over whichever
/// budget runs out first, gradient clipping, random translations.</para>
/// <para>Every random draw of step s comes from a generator seeded by (Seed, s), the batch order of epoch e from one
/// seeded by (Seed, e), and initial weights from Seed, so an epoch-limited run is reproducible on one machine.</para>
/// </remarks>
internal sealed class TraitClassifierTrainer
{
    private readonly TraitClassifierOptions _options;

    /// <summary>Creates a trainer.</summary>
    /// <param name="options">The options; see <see cref="TraitClassifierOptions"/> for the defaults.</param>
    public TraitClassifierTrainer(TraitClassifierOptions options)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _options.Validate();
    }

    /// <summary>
    /// The split <see cref="Train"/> makes: tokens ordered by a seeded hash of their id (<see cref="TraitClassifierOptions.Seed"/>),
    /// the first ⌈f·N⌉ (at least one, at most N − 1) held out (f = <see cref="TraitClassifierOptions.HoldoutFraction"/>).
    /// It depends only on the ids, the fraction and the seed, so the held-out tokens can be recovered later — for
    /// example to evaluate images the classifier never saw.
    /// </summary>
    /// <param name="collection">The collection (at least two tokens).</param>
    /// <returns>The training and held-out tokens, each in collection order.</returns>
    public (IReadOnlyList<NftToken> Train, IReadOnlyList<NftToken> HeldOut) Split(NftCollection collection)
    {
        ArgumentNullException.ThrowIfNull(collection);
        if (CollectionRequirements.TokenCountProblem(collection, 2, "a split", "one is held out") is { } few)
            throw new ArgumentException(few, nameof(collection));
        var (train, heldOut) = RarityRewardTrainer.Split(collection.Tokens.Select(t => t.TokenId).ToList(), _options.HoldoutFraction, _options.EffectiveSeed);
        return (train.Select(i => collection.Tokens[i]).ToArray(), heldOut.Select(i => collection.Tokens[i]).ToArray());
    }

    /// <summary>Trains on every token of <paramref name="collection"/> outside the held-out split and measures the held-out tokens.</summary>
    /// <param name="collection">A collection with traits and an image per token (sizes may differ; they are resampled).</param>
    /// <exception cref="ArgumentException">The collection has fewer than two tokens, a token without an image, or no trait to learn.</exception>
    public TraitClassifier Train(NftCollection collection)
    {
        ArgumentNullException.ThrowIfNull(collection);
        var o = _options;
        int n = collection.Count;
        // Checked before anything is built: a bad collection fails at once, naming the token and the file expected.
        string? problem = CollectionRequirements.TokenCountProblem(collection, 2, "the trait classifier", "one is held out")
            ?? CollectionRequirements.MissingImageProblem(collection, "the trait classifier");
        if (problem is not null) throw new ArgumentException(problem, nameof(collection));
        var ids = collection.Tokens.Select(t => t.TokenId).ToList();
        var (train, heldOut) = RarityRewardTrainer.Split(ids, o.HoldoutFraction, o.EffectiveSeed);
        var vocabulary = TraitVocabulary.Build(collection, train, o.IncludeNumericTraits);
        var heads = vocabulary.Heads;
        int size = o.ResolveImageSize(collection.Tokens[0].Image!.Width, collection.Tokens[0].Image!.Height);
        var architecture = new TraitClassifierArchitecture { ImageSize = size, Width = o.Width, HiddenSize = o.HiddenSize };
        var offsets = TraitClassifier.Offsets(heads);

        TorchRuntime.EnsureLoaded();
        var device = TorchRuntime.Resolve(o.Device);
        var clock = Stopwatch.StartNew();
        // Built before the dispose scope below opens: the network outlives it.
        var network = TorchRuntime.Seeded(o.EffectiveSeed, () => new TraitClassifierNetwork(architecture, offsets[^1]));
        try
        {
            network.to(device);
            float[] mean, std;
            TraitClassifierMetrics metrics;
            using (var scope = NewDisposeScope())
            {
                var raw = TraitClassifierPreprocessing.ToTensor(collection.Tokens.Select(t => t.Image!).ToList(), size, device);
                (mean, std) = PixelStatistics(raw, train);
                var trainX = raw.index_select(0, Index(train, device));
                var trainY = tensor(Targets(vocabulary.Classes, train, heads.Count), new long[] { train.Length, heads.Count }, device: device);
                var (steps, epochs) = Loop(network, trainX, trainY, offsets, mean, std, clock);
                network.eval();
                metrics = Measure(network, heads, offsets, mean, std, raw, vocabulary, train, heldOut, collection) with
                {
                    Steps = steps, Epochs = epochs, TrainSeconds = clock.Elapsed.TotalSeconds,
                };
            }
            return new TraitClassifier(architecture, heads, mean, std, network, device, metrics);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    private static Tensor Index(int[] rows, Device device) => tensor(rows.Select(i => (long)i).ToArray(), device: device);

    private static long[] Targets(int[,] classes, int[] rows, int heads)
    {
        var flat = new long[rows.Length * heads];
        for (int r = 0; r < rows.Length; r++)
            for (int h = 0; h < heads; h++)
                flat[r * heads + h] = classes[rows[r], h];
        return flat;
    }

    private static (float[] Mean, float[] Std) PixelStatistics(Tensor raw, int[] train)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var perChannel = raw.index_select(0, Index(train, raw.device)).transpose(0, 1).reshape(3, -1).to_type(ScalarType.Float64);
        var m = perChannel.mean(new long[] { 1 }).cpu().data<double>().ToArray();
        var s = perChannel.std(1, unbiased: false).cpu().data<double>().ToArray();
        return (m.Select(v => (float)v).ToArray(), s.Select(v => (float)Math.Max(v, 1e-3)).ToArray());
    }

    private (int Steps, double Epochs) Loop(TraitClassifierNetwork network, Tensor trainX, Tensor trainY, int[] offsets, float[] mean, float[] std, Stopwatch clock)
    {
        var o = _options;
        int nTrain = (int)trainX.shape[0], heads = offsets.Length - 1;
        int batch = Math.Min(o.BatchSize, nTrain);
        int stepsPerEpoch = (nTrain + batch - 1) / batch;
        // An epoch is every training token once: ⌈n / batch⌉ steps, the last one possibly smaller.
        int totalSteps = (int)Math.Max(1, Math.Min(int.MaxValue, Math.Ceiling(o.Epochs * stepsPerEpoch - 1e-9)));
        int outliers = o.OutlierFraction > 0 ? Math.Max(1, (int)Math.Round(batch * o.OutlierFraction)) : 0;
        var parameters = network.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).ToList();
        using var adam = new AdamW(parameters, o.LearningRate, weightDecay: o.WeightDecay);
        long[]? order = null;
        int orderEpoch = -1, step = 0, seen = 0;
        double lossSum = 0, correct = 0, predictions = 0;
        int lossCount = 0;
        network.train();
        while (step < totalSteps)
        {
            o.CancellationToken.ThrowIfCancellationRequested();
            TorchRuntime.FitThreadsToLoad();
            if (o.MaxTime is { } limit && clock.Elapsed >= limit) break;
            int epoch = step / stepsPerEpoch;
            if (epoch != orderEpoch)
            {
                order = Permutation(nTrain, DiffusionTrainer.StepSeed(o.EffectiveSeed, -1L - epoch));
                orderEpoch = epoch;
            }
            int start = step % stepsPerEpoch * batch;
            var rows = order!.AsSpan(start, Math.Min(batch, nTrain - start)).ToArray();
            adam.LearningRate = LearningRate(step, totalSteps, clock.Elapsed);
            using (var stepScope = NewDisposeScope())
            {
                using var gen = SeededRandom.Create(DiffusionTrainer.StepSeed(o.EffectiveSeed, step));
                var idx = tensor(rows, device: trainX.device);
                var x = TraitClassifierAugmentation.Shift(trainX.index_select(0, idx), o.MaxShift, gen);
                var y = trainY.index_select(0, idx);
                var input = outliers > 0 ? cat(new[] { x, TraitClassifierAugmentation.Outliers(x, outliers, gen) }, 0) : x;
                var logits = network.call(TraitClassifierPreprocessing.Normalise(input, mean, std));
                var real = logits.narrow(0, 0, rows.Length);
                Tensor loss = zeros(1, device: logits.device).squeeze();
                long right = 0;
                for (int h = 0; h < heads; h++)
                {
                    var z = real.narrow(1, offsets[h], offsets[h + 1] - offsets[h]);
                    var target = y.select(1, h);
                    loss = loss + nn.functional.cross_entropy(z, target) / heads;
                    using (no_grad()) right += z.argmax(1).eq(target).sum().item<long>();
                }
                if (outliers > 0 && o.OutlierWeight > 0)
                {
                    var fake = logits.narrow(0, rows.Length, outliers);
                    for (int h = 0; h < heads; h++)
                    {
                        var z = fake.narrow(1, offsets[h], offsets[h + 1] - offsets[h]);
                        // Cross-entropy to the uniform distribution: logsumexp(z) − mean(z), averaged over the outliers.
                        loss = loss + o.OutlierWeight / heads * (z.logsumexp(1) - z.mean(new long[] { 1 })).mean();
                    }
                }
                float lossValue = loss.item<float>();
                Divergence.ThrowIfNotFinite(lossValue, "Trait-classifier training", step + 1, o.LearningRate, "or check the collection's images");
                adam.ZeroGrad();
                loss.backward();
                if (o.GradientClip > 0) adam.ClipGradNorm(o.GradientClip);
                adam.StepUpdate();
                lossSum += lossValue;
                lossCount++;
                correct += right;
                predictions += (double)rows.Length * heads;
            }
            step++;
            seen += rows.Length;
            bool last = step == totalSteps || (o.MaxTime is { } l2 && clock.Elapsed >= l2);
            if (step % o.ReportEvery == 0 || last)
            {
                o.Progress?.Report(new TraitClassifierTrainingProgress(step, totalSteps, (double)seen / nTrain, lossSum / lossCount,
                    correct / predictions, clock.Elapsed));
                lossSum = correct = predictions = 0;
                lossCount = 0;
            }
        }
        return (step, (double)seen / nTrain);
    }

    /// <summary>A seeded Fisher–Yates permutation of 0 … n − 1.</summary>
    private static long[] Permutation(int n, ulong seed)
    {
        var rng = new Random(unchecked((int)(seed ^ (seed >> 32))));
        var p = new long[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }

    /// <summary>Linear warm-up, then cosine decay to a tenth of the peak over whichever budget (steps or time) runs out first.</summary>
    private double LearningRate(int step, int totalSteps, TimeSpan elapsed)
    {
        var o = _options;
        double progress = (double)step / totalSteps;
        if (o.MaxTime is { } limit) progress = Math.Max(progress, elapsed / limit);
        return LearningRateScheduleMath.WarmupThenCosine(o.LearningRate, step, o.WarmupSteps, progress, finalFraction: 0.1);
    }

    private TraitClassifierMetrics Measure(TraitClassifierNetwork network, IReadOnlyList<TraitHead> heads, int[] offsets, float[] mean, float[] std,
        Tensor raw, TraitVocabulary vocabulary, int[] train, int[] heldOut, NftCollection collection)
    {
        int h = heads.Count;
        var classes = new long[heldOut.Length * h];
        var probabilities = new float[heldOut.Length * h];
        const int Chunk = 256;
        for (int start = 0; start < heldOut.Length; start += Chunk)
        {
            _options.CancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var rows = heldOut.AsSpan(start, Math.Min(Chunk, heldOut.Length - start)).ToArray();
            var (c, p) = TraitClassifier.TopClasses(network, heads, offsets, mean, std, raw.index_select(0, Index(rows, raw.device)));
            c.CopyTo(classes, start * h);
            p.CopyTo(probabilities, start * h);
        }

        // The rarity table of the whole collection: the one the evaluator looks decoded traits up in.
        var view = collection.ToDataView(new NftCollectionDataViewOptions { IncludeImages = false, IncludeCaptions = false });
        var table = new TraitRarityEstimator(new MLContext(seed: 0), new TraitRarityOptions { UseDoublePrecision = true }).Fit(view).Table;
        var scored = table.Traits.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        double Score(IEnumerable<(string Type, string? Value)> traits) =>
            table.Score(traits.Where(t => scored.Contains(TraitText.Normalize(t.Type))).ToDictionary(t => t.Type, t => t.Value, StringComparer.Ordinal)).Score;

        var decoded = new double[heldOut.Length];
        var truth = new double[heldOut.Length];
        for (int r = 0; r < heldOut.Length; r++)
        {
            var token = collection.Tokens[heldOut[r]];
            truth[r] = Score(token.Attributes.Select(a => (a.TraitType, (string?)a.Value)));
            decoded[r] = Score(Enumerable.Range(0, h).Select(k => (heads[k].TraitType, heads[k].ValueOf((int)classes[r * h + k]))));
        }
        return TraitClassifierMetrics.Compute(heads, vocabulary.Classes, train, heldOut, classes, probabilities, truth, decoded, _options.ConfidenceThreshold);
    }
}
