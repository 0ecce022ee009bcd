using System.Diagnostics;
using System.Text;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Reward.Modules;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Reward;

/// <summary>
/// Trains a <see cref="RarityRewardModel"/> on images and their trait rarity: a ViT with a score-regression head
/// (MSE on the z-scored rarity score) and a rare-classification head (binary cross-entropy with the rare class weighted
/// by negatives/positives, since rare is ~5 %), plus, when per-trait probabilities are given, a training-only head for
/// each trait's information. The tokens are split into training and validation by a seeded hash of their ids; a
/// validation criterion decides early stopping and the weights kept, and the validation metrics
/// (<see cref="RewardMetrics"/>) travel with the model.
/// </summary>
/// <remarks>
/// <para>Loss per step: MSE(z) + <see cref="RarityRewardTrainerOptions.ClassificationWeight"/> · weighted BCE(rare)
/// + <see cref="RarityRewardTrainerOptions.TraitInformationWeight"/> · MSE(per-trait information). AdamW with linear
/// warm-up and cosine decay, gradient clipping, random translations of at most
/// <see cref="RarityRewardTrainerOptions.MaxShift"/> pixels.</para>
/// <para>Every random draw of step s (batch, shifts) comes from a generator seeded by (Seed, s), and initial weights
/// from Seed, so a step-limited run is reproducible on one machine.</para>
/// </remarks>
internal sealed class RarityRewardTrainer
{
    private readonly RarityRewardTrainerOptions _options;

    /// <summary>Creates a trainer.</summary>
    public RarityRewardTrainer(RarityRewardTrainerOptions options)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _options.Validate();
    }

    /// <summary>
    /// Trains on images (all of one size) with their rarity scores and rare flags. Token ids decide the split (null:
    /// the index plays the id). Returns the model with the best validation loss and its validation metrics in
    /// <see cref="RarityRewardModel.Metrics"/>.
    /// </summary>
    /// <param name="images">The images, one per token, all of one size.</param>
    /// <param name="scores">The rarity score of each token.</param>
    /// <param name="isRare">The rare flag of each token.</param>
    /// <param name="tokenIds">Unique token ids (null: the index).</param>
    /// <param name="traitProbabilities">
    /// Optional: for each token, the probability of its value of every trait type (one vector length for all tokens),
    /// as <c>ComputeTraitRarity</c>'s <see cref="Rarity.TraitRarityOptions.ProbabilitiesColumnName"/> column gives it.
    /// When given, an auxiliary training-only head learns each trait's information −log2 p — the terms the OpenRarity
    /// score sums — which tells the network which part of the image carries which share of the rarity
    /// (<see cref="RarityRewardTrainerOptions.TraitInformationWeight"/>). The saved model does not include that head.
    /// </param>
    public RarityRewardModel Train(IReadOnlyList<RgbaImage> images, IReadOnlyList<double> scores, IReadOnlyList<bool> isRare,
        IReadOnlyList<string>? tokenIds = null, IReadOnlyList<double[]>? traitProbabilities = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(isRare);
        int n = images.Count;
        if (n < 2) throw new ArgumentException($"Training needs at least two images (one for validation); got {n}.", nameof(images));
        if (scores.Count != n || isRare.Count != n || (tokenIds is not null && tokenIds.Count != n))
            throw new ArgumentException($"One score, rare flag and token id per image is needed: {n} images, {scores.Count} scores, {isRare.Count} flags{(tokenIds is null ? "" : $", {tokenIds.Count} ids")}.");
        for (int i = 0; i < n; i++)
            if (!double.IsFinite(scores[i]))
                throw new ArgumentException($"The rarity score of image {i}{(tokenIds is null ? "" : $" (token '{tokenIds[i]}')")} is {scores[i]}; scores must be finite.", nameof(scores));
        int traits = CheckTraitProbabilities(traitProbabilities, n, tokenIds);
        var ids = tokenIds ?? Enumerable.Range(0, n).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        if (ids.Distinct(StringComparer.Ordinal).Count() != n)
            throw new ArgumentException("Token ids must be unique: the split is by token, and a repeated token could land on both sides.", nameof(tokenIds));

        var vit = _options.ResolveVit(images[0].Width, images[0].Height);
        vit.Validate();
        var (train, validation) = Split(ids, _options.ValidationFraction, _options.EffectiveSeed);
        var device = TorchRuntime.Resolve(_options.Device);
        var clock = Stopwatch.StartNew();

        // Built before the dispose scope below opens: the networks outlive it.
        var (network, traitHead) = TorchRuntime.Seeded(_options.EffectiveSeed, () =>
            (new RarityNetwork(vit), traits > 0 ? nn.Linear(vit.Dim, traits) : null));
        try
        {
            using var scope = NewDisposeScope();
            var raw = ImageTensors.ToTensor(images, device);
            var normalization = Normalise(raw, vit, train, scores, isRare);
            Tensor x;
            using (no_grad()) x = RewardPreprocessing.Prepare(raw, vit, normalization);
            raw.Dispose();
            var z = tensor(scores.Select(s => (float)((s - normalization.ScoreMean) / normalization.ScoreStd)).ToArray(), device: device);
            var y = tensor(isRare.Select(r => r ? 1f : 0f).ToArray(), device: device);
            var trainIdx = tensor(train.Select(i => (long)i).ToArray(), device: device);
            var valIdx = tensor(validation.Select(i => (long)i).ToArray(), device: device);
            var info = traits > 0 ? TraitInformation(traitProbabilities!, train, device) : null;
            network.to(device);
            traitHead?.to(device);
            var data = new Data(x.index_select(0, trainIdx), z.index_select(0, trainIdx), y.index_select(0, trainIdx),
                x.index_select(0, valIdx), z.index_select(0, valIdx), y.index_select(0, valIdx), Math.Exp(-normalization.RareLogitOffset),
                normalization.RareLogitOffset, info?.index_select(0, trainIdx));
            var (steps, bestStep) = Loop(network, traitHead, data, clock);
            var metrics = Evaluate(network, data, normalization) with { Steps = steps, BestStep = bestStep, TrainSeconds = clock.Elapsed.TotalSeconds };
            return new RarityRewardModel(vit, normalization, network, device, metrics);
        }
        catch
        {
            network.Dispose();
            throw;
        }
        finally
        {
            traitHead?.Dispose();
        }
    }

    private static int CheckTraitProbabilities(IReadOnlyList<double[]>? probabilities, int n, IReadOnlyList<string>? tokenIds)
    {
        if (probabilities is null) return 0;
        if (probabilities.Count != n)
            throw new ArgumentException($"{probabilities.Count} trait-probability vectors for {n} images; give one per image.", nameof(probabilities));
        int k = probabilities[0]?.Length ?? 0;
        if (k == 0) throw new ArgumentException("The trait-probability vectors are empty.", nameof(probabilities));
        for (int i = 0; i < n; i++)
        {
            string token = tokenIds is null ? $"image {i}" : $"token '{tokenIds[i]}'";
            var p = probabilities[i] ?? throw new ArgumentException($"The trait probabilities of {token} are missing.", nameof(probabilities));
            if (p.Length != k)
                throw new ArgumentException($"The trait probabilities of {token} have {p.Length} entries; the first token's have {k}.", nameof(probabilities));
            for (int j = 0; j < k; j++)
                if (!(p[j] > 0 && p[j] <= 1))
                    throw new ArgumentException($"Trait probability {j} of {token} is {p[j]}; probabilities must lie in (0, 1].", nameof(probabilities));
        }
        return k;
    }

    /// <summary>Each trait's information −log2 p, standardised per trait over the training split.</summary>
    private static Tensor TraitInformation(IReadOnlyList<double[]> probabilities, int[] train, Device device)
    {
        int n = probabilities.Count, k = probabilities[0].Length;
        var bits = new double[n, k];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < k; j++)
                bits[i, j] = -Math.Log2(probabilities[i][j]);
        var flat = new float[n * k];
        for (int j = 0; j < k; j++)
        {
            double mean = train.Average(i => bits[i, j]);
            double sd = Math.Sqrt(train.Sum(i => (bits[i, j] - mean) * (bits[i, j] - mean)) / train.Length);
            // A trait with one value in the training split carries no information to learn: its target is 0.
            double scale = sd > 1e-9 ? 1 / sd : 0;
            for (int i = 0; i < n; i++) flat[i * k + j] = (float)((bits[i, j] - mean) * scale);
        }
        return tensor(flat, new long[] { n, k }, device: device);
    }

    private sealed record Data(Tensor TrainX, Tensor TrainZ, Tensor TrainY, Tensor ValX, Tensor ValZ, Tensor ValY, double PositiveWeight,
        double RareLogitOffset, Tensor? TrainTraits);

    private (int Steps, int BestStep) Loop(RarityNetwork network, TorchSharp.Modules.Linear? traitHead, Data data, Stopwatch clock)
    {
        var o = _options;
        var parameters = network.named_parameters().Select(p => (p.name, (Tensor)p.parameter));
        if (traitHead is not null)
            parameters = parameters.Concat(traitHead.named_parameters().Select(p => ("trait_head." + p.name, (Tensor)p.parameter)));
        using var adam = new AdamW(parameters.ToList(), o.LearningRate, weightDecay: o.WeightDecay);
        using var posWeight = tensor(new[] { (float)data.PositiveWeight }, device: data.TrainX.device);
        long nTrain = data.TrainX.shape[0];
        Dictionary<string, Tensor>? best = null;
        double bestLoss = double.PositiveInfinity;
        int bestStep = 0, sinceBest = 0, step = 0;
        double lossSum = 0;
        int lossCount = 0;
        double? lastValLoss = null, lastSpearman = null;
        try
        {
            while (step < o.MaxSteps)
            {
                o.CancellationToken.ThrowIfCancellationRequested();
                TorchRuntime.FitThreadsToLoad();
                if (o.MaxTime is { } limit && clock.Elapsed >= limit) break;
                adam.LearningRate = LearningRate(step, clock.Elapsed);
                network.train();
                traitHead?.train();
                using (var stepScope = NewDisposeScope())
                {
                    using var gen = new Generator(DiffusionTrainer.StepSeed(o.EffectiveSeed, step), data.TrainX.device);
                    var idx = randint(nTrain, new long[] { Math.Min(o.BatchSize, nTrain) }, generator: gen, device: data.TrainX.device);
                    var batch = Shift(data.TrainX.index_select(0, idx), o.MaxShift, gen);
                    var (embedding, score, logit) = network.call(batch);
                    var loss = Loss(score, logit, data.TrainZ.index_select(0, idx), data.TrainY.index_select(0, idx), posWeight);
                    if (traitHead is not null && o.TraitInformationWeight > 0)
                        loss = loss + o.TraitInformationWeight * nn.functional.mse_loss(traitHead.call(embedding), data.TrainTraits!.index_select(0, idx));
                    float lossValue = loss.item<float>();
                    Divergence.ThrowIfNotFinite(lossValue, "Reward training", step + 1, o.LearningRate, "or check the collection's images and traits");
                    adam.ZeroGrad();
                    loss.backward();
                    if (o.GradientClip > 0) adam.ClipGradNorm(o.GradientClip);
                    adam.StepUpdate();
                    lossSum += lossValue;
                    lossCount++;
                }
                step++;
                bool last = step == o.MaxSteps || (o.MaxTime is { } l2 && clock.Elapsed >= l2);
                if (step % o.EvaluateEvery == 0 || last)
                {
                    var (valLoss, spearman) = ValidationLoss(network, data);
                    lastValLoss = valLoss;
                    lastSpearman = spearman;
                    if (valLoss < bestLoss - 1e-6 * Math.Abs(bestLoss) || best is null)
                    {
                        bestLoss = valLoss;
                        bestStep = step;
                        sinceBest = 0;
                        if (best is not null) foreach (var t in best.Values) t.Dispose();
                        best = Snapshot(network);
                    }
                    else if (++sinceBest >= o.Patience)
                    {
                        Report(step, lossSum, lossCount, lastValLoss, lastSpearman, clock);
                        lossCount = 0;
                        break;
                    }
                }
                if (step % o.ReportEvery == 0 || last)
                {
                    Report(step, lossSum, lossCount, lastValLoss, lastSpearman, clock);
                    lossSum = 0;
                    lossCount = 0;
                }
            }
            if (lossCount > 0) Report(step, lossSum, lossCount, lastValLoss, lastSpearman, clock);
            if (best is null)
            {
                // Stopped (by time) before the first validation pass: keep the current weights.
                bestStep = step;
            }
            else
            {
                using var noGrad = no_grad();
                foreach (var (name, value) in network.state_dict()) value.copy_(best[name]);
            }
            network.eval();
            return (step, bestStep);
        }
        finally
        {
            if (best is not null) foreach (var t in best.Values) t.Dispose();
        }
    }

    private void Report(int step, double lossSum, int lossCount, double? valLoss, double? spearman, Stopwatch clock) =>
        _options.Progress?.Report(new RarityRewardTrainingProgress(step, _options.MaxSteps, lossSum / Math.Max(1, lossCount), valLoss, spearman, clock.Elapsed));

    /// <summary>Linear warm-up, then cosine decay to a tenth of the peak over whichever budget (steps or time) runs out first.</summary>
    private double LearningRate(int step, TimeSpan elapsed)
    {
        var o = _options;
        double progress = o.MaxSteps == int.MaxValue ? 0 : (double)step / o.MaxSteps;
        if (o.MaxTime is { } limit) progress = Math.Max(progress, elapsed / limit);
        return LearningRateScheduleMath.WarmupThenCosine(o.LearningRate, step, o.WarmupSteps, progress, finalFraction: 0.1);
    }

    private Tensor Loss(Tensor score, Tensor logit, Tensor z, Tensor y, Tensor posWeight)
    {
        var regression = nn.functional.mse_loss(score, z);
        if (_options.ClassificationWeight == 0) return regression;
        var classification = nn.functional.binary_cross_entropy_with_logits(logit, y, pos_weights: posWeight);
        return regression + _options.ClassificationWeight * classification;
    }

    /// <summary>
    /// The early-stopping criterion: MSE of the z-score plus the log loss of the calibrated rare probability. Unlike the
    /// class-weighted training loss, it does not let the few rare validation tokens (weighted ~19×) dominate the choice.
    /// </summary>
    private (double Loss, double? Spearman) ValidationLoss(RarityNetwork network, Data data)
    {
        network.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (score, logit) = Predict(network, data.ValX);
        var calibrated = logit + data.RareLogitOffset;
        var criterion = nn.functional.mse_loss(score, data.ValZ)
                        + _options.ClassificationWeight * nn.functional.binary_cross_entropy_with_logits(calibrated, data.ValY);
        double loss = criterion.item<float>();
        var predicted = score.cpu().data<float>().ToArray().Select(v => (double)v).ToArray();
        var truth = data.ValZ.cpu().data<float>().ToArray().Select(v => (double)v).ToArray();
        return (loss, RewardMetrics.SpearmanCorrelation(predicted, truth));
    }

    private static (Tensor Score, Tensor Logit) Predict(RarityNetwork network, Tensor x)
    {
        const int chunk = 256;
        var scores = new List<Tensor>();
        var logits = new List<Tensor>();
        for (long start = 0; start < x.shape[0]; start += chunk)
        {
            var (_, s, l) = network.call(x.narrow(0, start, Math.Min(chunk, x.shape[0] - start)));
            scores.Add(s);
            logits.Add(l);
        }
        return (cat(scores.ToArray(), 0), cat(logits.ToArray(), 0));
    }

    private static RewardMetrics Evaluate(RarityNetwork network, Data data, RewardNormalization normalization)
    {
        network.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (score, logit) = Predict(network, data.ValX);
        var probability = (logit + normalization.RareLogitOffset).sigmoid();
        static double[] D(Tensor t) => t.cpu().data<float>().ToArray().Select(v => (double)v).ToArray();
        return RewardMetrics.Compute(D(score), D(data.ValZ), D(probability), D(data.ValY).Select(v => v > 0.5).ToArray());
    }

    private static Dictionary<string, Tensor> Snapshot(RarityNetwork network)
    {
        var copy = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, value) in network.state_dict())
            copy[name] = value.detach().clone().DetachFromDisposeScope();
        return copy;
    }

    /// <summary>
    /// Translates each image by an independent random offset in [−s, s]² with replicated edges. The shifted batch keeps
    /// its size; each offset group is one crop of the padded batch.
    /// </summary>
    internal static Tensor Shift(Tensor batch, int maxShift, Generator gen)
    {
        if (maxShift == 0) return batch;
        using var scope = NewDisposeScope();
        long b = batch.shape[0], h = batch.shape[2], w = batch.shape[3];
        int side = 2 * maxShift + 1;
        var padded = nn.functional.pad(batch, new long[] { maxShift, maxShift, maxShift, maxShift }, PaddingModes.Replicate);
        var offsets = SeededRandom.Randint(side * side, new long[] { b }, gen, batch.device);
        var result = empty_like(batch);
        var offsetsCpu = offsets.cpu().data<long>().ToArray();
        for (int o = 0; o < side * side; o++)
        {
            var members = Enumerable.Range(0, (int)b).Where(i => offsetsCpu[i] == o).Select(i => (long)i).ToArray();
            if (members.Length == 0) continue;
            var index = tensor(members, device: batch.device);
            var crop = padded.index_select(0, index).narrow(2, o / side, h).narrow(3, o % side, w);
            result.index_copy_(0, index, crop);
        }
        return result.MoveToOuterDisposeScope();
    }

    private RewardNormalization Normalise(Tensor raw, VitOptions vit, IReadOnlyList<int> train, IReadOnlyList<double> scores, IReadOnlyList<bool> isRare)
    {
        float[] mean = new float[3], std = new float[3];
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var resized = RewardPreprocessing.Resize(raw.index_select(0, tensor(train.Select(i => (long)i).ToArray(), device: raw.device)), vit.ImageSize);
            var perChannel = resized.transpose(0, 1).reshape(3, -1).to_type(ScalarType.Float64);
            var m = perChannel.mean(new long[] { 1 }).cpu().data<double>().ToArray();
            var s = perChannel.std(1, unbiased: false).cpu().data<double>().ToArray();
            for (int c = 0; c < 3; c++)
            {
                mean[c] = (float)m[c];
                std[c] = (float)Math.Max(s[c], 1e-3);
            }
        }
        double sm = train.Average(i => scores[i]);
        double sv = train.Sum(i => (scores[i] - sm) * (scores[i] - sm)) / train.Count;
        int positives = train.Count(i => isRare[i]);
        int negatives = train.Count - positives;
        // Weight the rare class by negatives/positives; with no positive (or no negative) in the split there is nothing to balance.
        double w = positives > 0 && negatives > 0 ? (double)negatives / positives : 1.0;
        return new RewardNormalization
        {
            PixelMean = mean,
            PixelStd = std,
            ScoreMean = sm,
            ScoreStd = sv > 1e-24 ? Math.Sqrt(sv) : 1.0,
            RareLogitOffset = -Math.Log(w),
        };
    }

    /// <summary>
    /// The train/validation split: tokens ordered by a seeded 64-bit hash of their id, the first ⌈f·N⌉ (at least one,
    /// at most N − 1) to validation. It depends only on the ids and the seed — not on row order — so a token keeps its
    /// side when the collection is reordered or grows.
    /// </summary>
    internal static (int[] Train, int[] Validation) Split(IReadOnlyList<string> tokenIds, double fraction, int seed)
    {
        int n = tokenIds.Count;
        int nVal = Math.Clamp((int)Math.Ceiling(fraction * n - 1e-9), 1, n - 1);
        var order = Enumerable.Range(0, n).OrderBy(i => Hash(tokenIds[i], seed)).ThenBy(i => tokenIds[i], StringComparer.Ordinal).ToArray();
        var validation = order.Take(nVal).Order().ToArray();
        var train = order.Skip(nVal).Order().ToArray();
        return (train, validation);
    }

    private static ulong Hash(string id, int seed)
    {
        // FNV-1a over the UTF-8 bytes, then a SplitMix64 finaliser mixed with the seed.
        ulong h = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(id))
        {
            h ^= b;
            h = unchecked(h * 1099511628211UL);
        }
        return DiffusionTrainer.StepSeed(seed, unchecked((long)h));
    }
}
