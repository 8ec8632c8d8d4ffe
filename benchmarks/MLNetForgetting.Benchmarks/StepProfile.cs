using System.Diagnostics;
using System.Globalization;
using MLNetForgetting.Forgetting;
using MLNetForgetting.Modeling;
using MLNetForgetting.Runtime;
using MLNetForgetting.Text;
using MLNetForgetting.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNetForgetting.Benchmarks;

/// <summary>
/// Where a training step of the vs-pytorch model goes: masking and batch building, forward + loss,
/// backward, gradient clipping, the AdamW update; and an inference forward. Random token ids (the
/// timings do not depend on the text). Medians over --reps after one warm-up.
///
///   dotnet $B step-profile [--reps 5] [--batch 32] [--seq 128] [--infer-batch 64] [--explicit-attention true] [--autocast bf16]
/// </summary>
internal static class StepProfile
{
    public static int Run(string[] args)
    {
        var o = Bench.Options(args, "reps", "batch", "seq", "infer-batch", "explicit-attention", "autocast", "dropout", "attention-dropout", "results");
        int reps = int.Parse(o.GetValueOrDefault("reps", "5"), CultureInfo.InvariantCulture);
        int batch = int.Parse(o.GetValueOrDefault("batch", "32"), CultureInfo.InvariantCulture);
        int seq = int.Parse(o.GetValueOrDefault("seq", "128"), CultureInfo.InvariantCulture);
        int inferBatch = int.Parse(o.GetValueOrDefault("infer-batch", "64"), CultureInfo.InvariantCulture);
        bool explicitAttention = o.GetValueOrDefault("explicit-attention", "false") == "true";
        var precision = o.GetValueOrDefault("autocast", "off") == "bf16" ? MatmulPrecision.BFloat16 : MatmulPrecision.Float32;
        TorchRuntime.EnsureInitialized();
        const int vocab = 8192;
        var config = RobertaConfig.Small(vocab) with { MaxSequenceLength = seq };
        if (o.TryGetValue("dropout", out var dropout)) // the cost of dropout itself: --dropout 0
            config = config with { HiddenDropout = double.Parse(dropout, CultureInfo.InvariantCulture), AttentionDropout = double.Parse(dropout, CultureInfo.InvariantCulture) };
        if (o.TryGetValue("attention-dropout", out var attentionDropout))
            config = config with { AttentionDropout = double.Parse(attentionDropout, CultureInfo.InvariantCulture) };
        using var model = new RobertaForMaskedLM(config);
        model.InitializeWeights(new Generator(1));
        foreach (var a in model.modules().OfType<RobertaSelfAttention>()) a.ExplicitAttention = explicitAttention;
        var settings = new PretrainingSettings { MaxSteps = 1000, ResetInterval = 0, BatchSize = batch, MaxSequenceLength = seq, Seed = 1 };
        using var optimizer = ActiveForgetting.CreateOptimizer(model, settings);
        var masker = new MlmMasker(vocab, 4, 1, new HashSet<int> { 0, 1, 2, 3, 4 }, 0.15);
        var rng = new Random(1);
        List<int[]> Batch(int n) => Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, seq).Select(j => j == 0 ? 0 : j == seq - 1 ? 2 : 5 + rng.Next(vocab - 5)).ToArray()).ToList();

        var phases = new[] { "batch", "forward+loss", "backward", "clip", "optimizer", "step total", "inference forward", "inference forward (inference_mode)" };
        var times = phases.ToDictionary(p => p, _ => new List<double>());
        model.train();
        for (int r = 0; r <= reps; r++)
        {
            var sequences = Batch(batch);
            var t = new Dictionary<string, double>();
            var total = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                var w = Stopwatch.StartNew();
                var b = masker.Mask(sequences, rng, CPU);
                t["batch"] = w.Elapsed.TotalMilliseconds; w.Restart();
                Tensor loss;
                using (Autocast.Enable(precision))
                    (loss, _, _) = model.MaskedLmLoss(b.InputIds, b.AttentionMask, b.Labels);
                _ = loss.item<float>();
                t["forward+loss"] = w.Elapsed.TotalMilliseconds; w.Restart();
                optimizer.ZeroGrad();
                loss.backward();
                t["backward"] = w.Elapsed.TotalMilliseconds; w.Restart();
                nn.utils.clip_grad_norm_(optimizer.AllParameters, 0.5);
                t["clip"] = w.Elapsed.TotalMilliseconds; w.Restart();
                optimizer.Step(r + 1);
                t["optimizer"] = w.Elapsed.TotalMilliseconds;
            }
            t["step total"] = total.Elapsed.TotalMilliseconds;

            var infer = Batch(inferBatch);
            model.eval();
            // The same forward under no_grad (what the transformers use) and under inference mode (no
            // version counters or view tracking), in alternating order: a lever of issue 10, measured
            // against its peer in the same rep.
            foreach (bool inferenceMode in r % 2 == 0 ? new[] { false, true } : new[] { true, false })
            {
                var iw = Stopwatch.StartNew();
                using (var scope = NewDisposeScope())
                using (inferenceMode ? (IDisposable)inference_mode() : no_grad())
                using (Autocast.Enable(precision))
                {
                    var (ids, mask) = PaddedBatch.Create(infer, 1, CPU);
                    _ = model.MeanPooled(ids, mask).data<float>().ToArray();
                }
                t[inferenceMode ? "inference forward (inference_mode)" : "inference forward"] = iw.Elapsed.TotalMilliseconds;
            }
            model.train();
            if (r == 0) continue; // warm-up
            foreach (var (k, v) in t) times[k].Add(v);
        }
        // The random masks behind dropout: 1M elements (one hidden-state dropout of this model).
        using (var scope = NewDisposeScope())
        {
            var x = randn(32 * 128 * 256);
            double Time(Func<Tensor> f) { f(); var w = Stopwatch.StartNew(); for (int i = 0; i < 5; i++) f(); return w.Elapsed.TotalMilliseconds / 5; }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  1M elements: dropout {Time(() => nn.functional.dropout(x, 0.1, true)):F2} ms, bernoulli_ {Time(() => empty_like(x).bernoulli_(0.9)):F2} ms, rand_like {Time(() => rand_like(x)):F2} ms, randint int32 x 0.5M {Time(() => randint(int.MinValue, int.MaxValue, new long[] { x.numel() / 2 }, dtype: ScalarType.Int32)):F2} ms"));
        }
        double stepMs = Bench.Median(times["step total"]);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"StepProfile: {batch}x{seq}, {torch.get_num_threads()} threads, dropout {config.HiddenDropout}/{config.AttentionDropout}, attention {(explicitAttention ? "explicit" : "fused")}, matmul precision {precision}, MKL shim {MklVendorShim.LoadedPath ?? "off"}"));
        foreach (var p in phases)
        {
            double ms = Bench.Median(times[p]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {p,-18} {ms,8:F1} ms{(p.StartsWith("inference", StringComparison.Ordinal) || p == "step total" ? "" : $"  ({ms / stepMs:P0} of the step)")}"));
        }
        Bench.Append(o.GetValueOrDefault("results", Bench.DefaultResults), "StepProfile", new Dictionary<string, object>
        {
            ["batch"] = batch, ["seq"] = seq, ["hidden_dropout"] = config.HiddenDropout, ["attention_dropout"] = config.AttentionDropout, ["infer_batch"] = inferBatch, ["threads"] = torch.get_num_threads(), ["explicit_attention"] = explicitAttention,
            ["autocast"] = precision.ToString(), ["mkl_vendor_shim"] = MklVendorShim.LoadedPath ?? "off", ["reps"] = reps,
            ["median_ms"] = phases.ToDictionary(p => p, p => Math.Round(Bench.Median(times[p]), 1)),
        });
        return 0;
    }
}
