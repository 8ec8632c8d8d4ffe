// Cost of one LiST meta re-weighting update vs one plain student (KD) update on a Small-preset
// backbone (d = 256, 4 layers, r = 128 adapters, unlabelled batch 16, meta batch 4), CPU.
// Median of N timed updates after 2 warm-ups.
//
//   dotnet run -c Release --project benchmarks/MLNetForgetting.Benchmarks -- list-meta-step [--data ../shared/data] [--runs 10]
using System.Diagnostics;
using MLNetForgetting.Modeling;
using MLNetForgetting.Modeling.Adapters;
using MLNetForgetting.Prompts;
using MLNetForgetting.SelfTraining;
using MLNetForgetting.Text;
using MLNetForgetting.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNetForgetting.Benchmarks;

internal static class ListMetaStep
{
    public static int Run(string[] args)
    {
        var o = Bench.Options(args, "data", "runs", "results");
        string data = o.GetValueOrDefault("data", "../shared/data");
        int runs = int.Parse(o.GetValueOrDefault("runs", "10"), System.Globalization.CultureInfo.InvariantCulture);
        var pool = FewShotData.ReadTsv(Path.Combine(data, "glue_pools", "SST-2", "train.tsv"));
        var labelled = FewShotData.LoadLabelled(data, "SST-2", 30, 1);
        var tokenizer = BpeVocabularyTrainer.Train(pool.Select(e => e.Texts[0]), new BpeTrainerOptions { VocabSize = 8000, RequiredTokens = [" terrible", " great"] });
        using var backbone = new RobertaForMaskedLM(RobertaConfig.Small(tokenizer.VocabSize));
        backbone.InitializeWeights(new Generator(1));
        using var teacher = PromptClassifier.Create(backbone, tokenizer, LiSTTasks.Sst2, new AdapterOptions(), new Generator(2));
        using var student = PromptClassifier.Create(backbone, tokenizer, LiSTTasks.Sst2, new AdapterOptions(), new Generator(3));
        var theta = student.FreezeBackbone();
        Console.WriteLine(student.ParameterReport());
        using var optimizer = new AdamEF([new ParameterGroup("student", theta, new ConstantSchedule(1e-4), 0)], 0.9, 0.999, 1e-8);
        var u = PromptEncoder.Encode(pool.Skip(100).Take(16 * (runs + 2)), LiSTTasks.Sst2, tokenizer, 128);
        var l = PromptEncoder.Encode(labelled, LiSTTasks.Sst2, tokenizer, 128);
        Console.WriteLine($"mean unlabelled prompt length {u.Average(e => e.Ids.Length):F1} tokens");

        double Update(int index, bool meta)
        {
            var watch = Stopwatch.StartNew();
            using var scope = NewDisposeScope();
            var batch = PromptBatch.Collate(u.Skip(index * 16).Take(16).ToList(), student.PadId, CPU);
            teacher.eval();
            Tensor pT;
            using (no_grad()) pT = nn.functional.softmax(teacher.Logits(batch), -1);
            student.train();
            Tensor w = meta
                ? MetaReweighting.GradientAlignment(student, theta, batch, pT, PromptBatch.Collate(l.Skip(index % 7 * 4).Take(4).ToList(), student.PadId, CPU), 5e-6).Weights
                : full(16, 1.0 / 16);
            var loss = (w * MetaReweighting.KlPerExample(pT, student.Logits(batch))).sum();
            optimizer.ZeroGrad();
            loss.backward();
            nn.utils.clip_grad_norm_(theta, 1.0);
            optimizer.Step(index + 1);
            return watch.Elapsed.TotalMilliseconds;
        }

        for (int i = 0; i < 2; i++) { Update(i, false); Update(i, true); }
        var plain = new List<double>(); var metaTimes = new List<double>();
        for (int i = 0; i < runs; i++) { plain.Add(Update(i + 2, false)); metaTimes.Add(Update(i + 2, true)); }
        Console.WriteLine($"plain KD update: median {Bench.Median(plain):F1} ms; meta-reweighted update: median {Bench.Median(metaTimes):F1} ms; ratio {Bench.Median(metaTimes) / Bench.Median(plain):F2} (threads {get_num_threads()}, runs {runs})");
        Bench.Append(o.GetValueOrDefault("results", Bench.DefaultResults), "ListMetaStep", new Dictionary<string, object>
        {
            ["preset"] = "small", ["adapter_dim"] = 128, ["unlabelled_batch"] = 16, ["meta_batch"] = 4, ["runs"] = runs,
            ["plain_ms_median"] = Math.Round(Bench.Median(plain), 1), ["meta_ms_median"] = Math.Round(Bench.Median(metaTimes), 1),
            ["ratio"] = Math.Round(Bench.Median(metaTimes) / Bench.Median(plain), 3), ["torch_threads"] = get_num_threads(),
        });
        return 0;
    }
}
