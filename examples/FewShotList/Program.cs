// The LiST few-shot harness: for each task, K and seed of the LiST splits, trains LiST and the three
// baselines on the same backbone and prints mean ± std test accuracy over the seeds per task and
// method (as in the paper's table), plus the trainable-parameter counts (LiST vs full fine-tuning).
//   - LiST                       : adapters + label-word head, prompt-tuned teacher, self-training (ML.NET trainer)
//   - prompt tuning (adapters)   : the teacher alone, no self-training (ML.NET trainer, FewShotMethod.PromptTuningAdapters)
//   - prompt fine-tuning (all)   : every backbone parameter + head, cross-entropy at <mask> (core baseline)
//   - classic fine-tuning        : a classification head on <s>, every parameter, no template (core baseline)
// The backbone is pretrained here with ActiveForgettingPretrainer on English raw text (the label words
// of every LiST task forced to single tokens) and saved to --output, or loaded from --backbone (a zip, or a
// pretrained Hugging Face folder such as all-MiniLM-L6-v2 converted by `mlnf import --backbone minilm --hf-output`).
// Per task it also prints the test majority-class rate and the backbone's zero-shot prompt accuracy.
//
//   dotnet run -c Release --project examples/FewShotList -- --help                                  # every option
//   dotnet run -c Release --project examples/FewShotList -- --quick                                 # minutes: proves the harness runs
//   dotnet run -c Release --project examples/FewShotList                                            # SST-2,subj,mpqa,RTE,MNLI; K = 30; seeds 1-5
// The run recorded in docs/benchmarks.md (the LiST few-shot harness sections) lists its exact options.
using System.CommandLine;
using System.Diagnostics;
using MLNetForgetting.MLNet.Persistence;
using System.Globalization;
using System.Text;
using Microsoft.ML;
using MLNetForgetting.Adaptation;
using MLNetForgetting.MLNet.FewShot;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Modeling.Adapters;
using MLNetForgetting.Prompts;
using MLNetForgetting.SelfTraining;
using MLNetForgetting.Text;
using MLNetForgetting.Training;

var inv = CultureInfo.InvariantCulture;
var valueOptions = new (string Name, string HelpName, string Description)[]
{
    ("data", "DIR", "shared data root holding list/, glue_pools/, raw/en/ (default ../shared/data)"),
    ("tasks", "A,B", "tasks among MNLI,RTE,QQP,SST-2,subj,mpqa (default SST-2,subj,mpqa,RTE,MNLI)"),
    ("shots", "30", "K, a list or range: 10,20,30 (default 30)"),
    ("seeds", "1-5", "split seeds (default 1-5; quick 1-2)"),
    ("output", "DIR", "results.md, summary.csv, runs.csv and a pretrained backbone.zip (default out/fewshot)"),
    ("methods", "LIST", "subset of list,pt-adapters,pft-all,classic (default all four)"),
    ("summarize", "D1,D2", "print one table from the runs.csv (or runs-partial.csv) of earlier --output folders, then exit"),
    ("backbone", "ZIP|DIR", "reuse a backbone zip, or start from a pretrained Hugging Face folder (e.g. `mlnf import --backbone minilm --hf-output hf/minilm`); every label word must be one token of its vocabulary"),
    ("backbone-steps", "N", "MLM updates (default 2000; quick 300)"),
    ("preset", "P", "Tiny|Small|Base (default Small; quick Tiny)"),
    ("hidden", "D", "override the preset's width (heads D/32, feed-forward 4D), e.g. 128"),
    ("k", "N", "active-forgetting reset interval; 0 = standard pretraining (default 0)"),
    ("lines", "N", "raw/en lines, sampled with a fixed seed across all files (default 20000; quick 3000)"),
    ("vocab", "N", "BPE vocabulary size; the LiST label words are forced to single tokens (default 8000; quick 800)"),
    ("pool", "N", "unlabelled rows: the first N of glue_pools/TASK/train.tsv not in the split (default 2000; quick 200)"),
    ("rounds", "M", "self-training sessions (default 3; quick 1; paper 6)"),
    ("phase-a", "N", "distillation updates per session (default 200; quick 20; paper 1000)"),
    ("phase-b-epochs", "N", "labelled epochs per session (default 10; quick 2; paper 50)"),
    ("teacher-epochs", "N", "teacher / prompt-tuning epochs (default 20; quick 4; paper 50)"),
    ("bottleneck", "R", "adapter size (default 32; quick 8; paper 128)"),
    ("lr", "X", "adapter + head rate of teacher and student (default 1e-3)"),
    ("ft-lr", "X", "rate of the full-model baselines (default 1e-4; quick 5e-4)"),
    ("ft-epochs", "N", "epochs of the full-model baselines (default: --teacher-epochs)"),
    ("max-length", "N", "cap on prompt length in tokens (default: the template's and the backbone's)"),
};
var flagOptions = new (string Name, string Description)[]
{
    ("pretrain-only", "stop after saving the backbone"),
    ("quick", "tiny backbone and settings: proves the harness runs (minutes), not a result"),
};
var root = new RootCommand("FewShotList: LiST and three baselines on the LiST few-shot splits; mean ± std test accuracy over seeds. Quick defaults apply with --quick.");
var byName = new Dictionary<string, Option>();
foreach (var (name, helpName, description) in valueOptions) root.Options.Add(byName[name] = new Option<string?>("--" + name) { HelpName = helpName, Description = description });
foreach (var (name, description) in flagOptions) root.Options.Add(byName[name] = new Option<bool>("--" + name) { Description = description });
var parsed = root.Parse(args);
if (parsed.Action is not null) return parsed.Invoke();        // --help, or a parse error (printed with the usage)
// Option name → value as typed ("" for a flag); defaults below depend on --quick, so they are applied where read.
var arguments = byName.Where(o => o.Value is Option<bool> flag ? parsed.GetValue(flag) : parsed.GetValue((Option<string?>)o.Value) is not null)
    .ToDictionary(o => o.Key, o => o.Value is Option<string?> value ? parsed.GetValue(value)! : "");
bool quick = arguments.ContainsKey("quick");
string Str(string name, string fallback) => arguments.TryGetValue(name, out var v) && v.Length > 0 ? v : fallback;
int Int(string name, int fallback) => int.Parse(Str(name, fallback.ToString(inv)), inv);
double Double(string name, double fallback) => double.Parse(Str(name, fallback.ToString("R", inv)), inv);
static int[] Range(string spec) => spec.Split(',').SelectMany(part => part.Split('-') is [var a, var b]
    ? Enumerable.Range(int.Parse(a, CultureInfo.InvariantCulture), int.Parse(b, CultureInfo.InvariantCulture) - int.Parse(a, CultureInfo.InvariantCulture) + 1)
    : [int.Parse(part, CultureInfo.InvariantCulture)]).ToArray();

if (arguments.ContainsKey("summarize"))
{
    // One table from several output folders (a sweep split across processes): their runs.csv, or the
    // runs-partial.csv of a run that has not finished.
    var rows = new List<(string Task, int K, string Method, double Accuracy)>();
    foreach (var dir in Str("summarize", "").Split(',', StringSplitOptions.RemoveEmptyEntries))
    {
        string full = Path.Combine(dir, "runs.csv"), partial = Path.Combine(dir, "runs-partial.csv");
        var lines = File.Exists(full) ? File.ReadLines(full).Skip(1) : File.Exists(partial) ? File.ReadLines(partial)
            : throw new FileNotFoundException($"{dir} holds neither runs.csv nor runs-partial.csv");
        foreach (var f in lines.Select(l => l.Split(',')))
            rows.Add((f[0], int.Parse(f[1], inv), f[3], double.Parse(f[4], inv)));
    }
    string[] order = ["LiST", "prompt tuning (adapters)", "prompt fine-tuning (all)", "classic fine-tuning"];
    var cols = rows.Select(r => (Task: r.Task, K: r.K)).Distinct().ToArray();
    var table = new StringBuilder();
    AccuracyTable(table, rows, order.Where(m => rows.Any(r => r.Method == m)).ToArray(), cols);
    foreach (var (t, k) in cols)
        table.Append(inv, $"\n{t} K={k}: seeds per method {string.Join(", ", order.Select(m => string.Create(inv, $"{m} {rows.Count(r => r.Task == t && r.K == k && r.Method == m)}")))}");
    Console.WriteLine(table);
    return 0;
}
string data = Str("data", Path.Combine("..", "shared", "data"));
string[] taskNames = Str("tasks", "SST-2,subj,mpqa,RTE,MNLI").Split(',');
int[] shots = Range(Str("shots", "30"));
int[] seeds = Range(Str("seeds", quick ? "1-2" : "1-5"));
string output = Str("output", Path.Combine("out", "fewshot"));
int poolRows = Int("pool", quick ? 200 : 2000);
if (!Directory.Exists(Path.Combine(data, "list"))) { Console.Error.WriteLine($"error: '{data}' has no list/ folder (pass --data path/to/shared/data)"); return 2; }
var tasks = taskNames.Select(LiSTTasks.Get).ToArray(); // an unknown task fails here, listing the known ones

// The paper's settings (SelfTrainingSettings defaults: 50 teacher epochs, 6 rounds of 1000 + 50 epochs,
// rates 5e-6/1e-4/1e-5 for RoBERTa-large) are far beyond a CPU run, and those rates barely move a
// small model trained from scratch; these keep the structure (teacher, rounds of phase A + B, meta
// re-weighting after 60% of phase A) at a size that fits. --quick only proves the harness works.
var settings = new SelfTrainingSettings
{
    Adapters = new AdapterOptions { BottleneckSize = Int("bottleneck", quick ? 8 : 32) },
    TeacherEpochs = Int("teacher-epochs", quick ? 4 : 20),
    Rounds = Int("rounds", quick ? 1 : 3),
    PhaseAUpdates = Int("phase-a", quick ? 20 : 200),
    PhaseBEpochs = Int("phase-b-epochs", quick ? 2 : 10),
    TeacherLearningRate = Double("lr", 1e-3),
    StudentLearningRate = Double("lr", 1e-3),
    FineTuningLearningRate = Double("ft-lr", quick ? 5e-4 : 1e-4),
    LogInterval = 1_000_000, // the console progress line replaces the log
    MaxSequenceLength = arguments.ContainsKey("max-length") ? Int("max-length", 128) : null,
};

var total = Stopwatch.StartNew();
var ml = new MLContext(seed: 1);
Directory.CreateDirectory(output);
LanguageModelTransformer backbone;
if (arguments.TryGetValue("backbone", out var folder) && Directory.Exists(folder))
{
    // A pretrained model: a Hugging Face BERT, RoBERTa or XLM-R folder, e.g. all-MiniLM-L6-v2 written by
    // `mlnf import --backbone minilm --hf-output hf/minilm`. A checkpoint without an MLM head gets a fresh one.
    backbone = LanguageModelTransformer.FromHuggingFace(ml, folder);
    Console.WriteLine($"Backbone: {folder} (pretrained {backbone.Model.Config.ModelType}, vocabulary {backbone.Tokenizer.VocabSize}, width {backbone.Model.Config.HiddenSize})");
}
else if (arguments.TryGetValue("backbone", out var zip) && zip.Length > 0)
{
    // A zip saved by this program (or any ML.NET zip whose last transformer is the language model).
    var loaded = ml.Model.Load(zip, out _);
    backbone = loaded as LanguageModelTransformer ?? (loaded as IEnumerable<ITransformer>)?.LastOrDefault() as LanguageModelTransformer
        ?? throw new InvalidDataException($"{zip} does not hold a LanguageModelTransformer");
    Console.WriteLine($"Backbone: {zip} (vocabulary {backbone.Tokenizer.VocabSize}, width {backbone.Model.Config.HiddenSize}, K = {backbone.ResetInterval})");
}
else
{
    int steps = Int("backbone-steps", quick ? 300 : 2000);
    string preset = Str("preset", quick ? "Tiny" : "Small");
    long k = Int("k", 0);
    int? hidden = arguments.ContainsKey("hidden") ? Int("hidden", 256) : null; // narrower than the preset: cheaper on a shared CPU
    // A seeded sample over all files: taking the first lines in file order would read only the first
    // file (Gutenberg novels) and miss the encyclopaedic text.
    var lines = Directory.GetFiles(Path.Combine(data, "raw", "en"), "*.txt").Order(StringComparer.Ordinal).SelectMany(File.ReadLines)
        .Where(l => !string.IsNullOrWhiteSpace(l)).ToArray();
    new Random(7).Shuffle(lines);
    lines = lines.Take(Int("lines", quick ? 3000 : 20_000)).ToArray();
    // Every LiST label word must be one token with its leading space (" great"), or the verbalizer
    // cannot read it at <mask>; so the tokenizer is trained here with them required, not by the pretrainer.
    var labelWords = LiSTTasks.All.SelectMany(t => t.Verbalizer.Words).Select(w => " " + w.Trim()).Distinct().ToArray();
    var tokenizer = BpeVocabularyTrainer.Train(lines, new BpeTrainerOptions { VocabSize = Int("vocab", quick ? 800 : 8000), RequiredTokens = labelWords });
    Console.WriteLine($"Backbone: pretraining {preset}, {steps} updates, K = {k}, on {lines.Length} lines of raw/en (vocabulary {tokenizer.VocabSize}, label words {string.Join(",", labelWords)})");
    var text = ml.Data.LoadFromEnumerable(lines.Select(l => new TextRow { Text = l }).ToList());
    backbone = ml.Transforms.Text.ActiveForgettingPretrainer(new ActiveForgettingPretrainer.Options
    {
        ModelPreset = preset, HiddenSize = hidden, NumAttentionHeads = hidden / 32 is > 0 and var heads ? heads : null, IntermediateSize = 4 * hidden,
        Tokenizer = tokenizer, MaxSteps = steps, ResetInterval = k, BatchSize = 16, MaxSequenceLength = quick ? 64 : 128,
        LearningRate = quick ? 3e-3 : 7e-4, EmbeddingLearningRate = quick ? 3e-3 : 7e-4, Seed = 7, Progress = new ConsoleProgress("backbone"),
    }).Fit(text);
    string saved = Path.Combine(output, "backbone.zip");
    ml.Model.SaveAtomic(backbone, text.Schema, saved);
    Console.WriteLine($"\n   final MLM loss {backbone.History.Steps[^1].Loss:F3} ({total.Elapsed.TotalSeconds:F0} s); saved to {saved} (reuse with --backbone)");
    if (arguments.ContainsKey("pretrain-only")) return 0;
}

string[] allMethods = ["LiST", "prompt tuning (adapters)", "prompt fine-tuning (all)", "classic fine-tuning"];
string[] methodKeys = ["list", "pt-adapters", "pft-all", "classic"];
var chosen = Str("methods", string.Join(',', methodKeys)).Split(',');
foreach (var m in chosen)
    if (!methodKeys.Contains(m)) { Console.Error.WriteLine($"error: unknown method '{m}' in --methods (known: {string.Join(',', methodKeys)})"); return 2; }
string[] methods = allMethods.Where((_, i) => chosen.Contains(methodKeys[i])).ToArray();
// The full-model baselines train for --ft-epochs (SelfTrainingSettings reads TeacherEpochs for them).
int ftEpochs = Int("ft-epochs", settings.TeacherEpochs);
var accuracies = new List<(string Task, int K, int Seed, string Method, double Accuracy, double Seconds)>();
var parameters = new Dictionary<string, (long Trainable, long Total)>();
var diagnostics = new Dictionary<string, (double Majority, double ZeroShot)>();
foreach (var task in tasks)
{
    bool pair = task.SentenceCount == 2;
    var test = FewShotData.LoadTest(data, task.Name);
    var testView = Rows(ml, test);
    // Diagnostics that need no training: the share of the most frequent test label, and the backbone's
    // zero-shot prompt accuracy (its MLM head read at <mask> over the label words, no adapters).
    double majority = test.GroupBy(e => e.Label).Max(g => g.Count()) / (double)test.Count;
    double zeroShot;
    using (var zsBackbone = ModelAssembly.Clone(backbone.Model)) // a copy: evaluation switches modes and adapter slots
    using (var zs = PromptClassifier.Create(zsBackbone, backbone.Tokenizer, task, adapterOptions: null))
    {
        int zsLength = Math.Min(Math.Min(task.Template.MaxLength, backbone.Model.Config.MaxSequenceLength), settings.MaxSequenceLength ?? int.MaxValue);
        zs.Activate();
        zeroShot = zs.Accuracy(PromptEncoder.Encode(test, task, backbone.Tokenizer, zsLength));
    }
    diagnostics[task.Name] = (majority, zeroShot);
    Console.WriteLine($"\n== {task.Name}: test majority class {100 * majority:F1} %, zero-shot prompt accuracy of the backbone {100 * zeroShot:F1} %");
    foreach (int k in shots)
        foreach (int seed in seeds)
        {
            var labelled = FewShotData.LoadLabelled(data, task.Name, k, seed);
            var pool = FewShotData.LoadUnlabelledPool(data, task.Name, labelled, poolRows);
            string run = $"{task.Name} K={k} seed={seed}";
            Console.WriteLine($"\n== {run}: {labelled.Count} labelled, {pool.Count} unlabelled, {test.Count} test");
            var s = settings with { Seed = seed };
            void Record(string method, double accuracy, Stopwatch watch)
            {
                accuracies.Add((task.Name, k, seed, method, accuracy, watch.Elapsed.TotalSeconds));
                Console.WriteLine($"\n   {method,-26} accuracy {100 * accuracy:F1} ({watch.Elapsed.TotalSeconds:F0} s)");
                // Written after every run so an interrupted sweep still leaves its numbers.
                File.AppendAllText(Path.Combine(output, "runs-partial.csv"), string.Create(inv, $"{task.Name},{k},{seed},{method},{accuracy:R},{watch.Elapsed.TotalSeconds:F1}\n"));
            }

            // LiST and adapter prompt tuning: the ML.NET trainer, evaluated with ML.NET's evaluator.
            foreach (var method in new[] { FewShotMethod.LiST, FewShotMethod.PromptTuningAdapters })
            {
                if (!methods.Contains(method == FewShotMethod.LiST ? allMethods[0] : allMethods[1])) continue;
                var watch = Stopwatch.StartNew();
                var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
                    .Append(ml.MulticlassClassification.Trainers.PromptAdapterSelfTrainer(new PromptAdapterSelfTrainer.Options
                    {
                        LanguageModel = backbone, Task = task.Name, Sentence2ColumnName = pair ? "Sentence2" : null, Method = method,
                        UnlabelledData = method == FewShotMethod.LiST ? Rows(ml, pool) : null, Settings = s, Seed = seed,
                        Progress = new ConsoleProgress($"{run} {method}"),
                    }));
                var model = pipeline.Fit(Rows(ml, labelled));
                var metrics = ml.MulticlassClassification.Evaluate(model.Transform(testView), "Label", "Score", "PredictedLabel");
                var report = model.LastTransformer.ParameterReport;
                parameters[method == FewShotMethod.LiST ? allMethods[0] : allMethods[1]] = (report.Trainable, report.Total);
                Record(method == FewShotMethod.LiST ? allMethods[0] : allMethods[1], metrics.MicroAccuracy, watch);
            }

            // The full-model baselines change the backbone they are given, so each gets a copy.
            var ft = s with { TeacherEpochs = ftEpochs };
            if (methods.Contains(allMethods[2]))
            {
                var watch = Stopwatch.StartNew();
                using var copy = ModelAssembly.Clone(backbone.Model);
                var (classifier, _) = PromptSelfTrainer.PromptFineTuneAll(copy, backbone.Tokenizer, task, labelled, ft, TorchSharp.torch.CPU,
                    progress: new ConsoleProgress($"{run} prompt FT"));
                int maxLength = Math.Min(task.Template.MaxLength, copy.Config.MaxSequenceLength);
                double accuracy = classifier.Accuracy(PromptEncoder.Encode(test, task, backbone.Tokenizer, maxLength));
                var report = classifier.ParameterReport();
                parameters[allMethods[2]] = (report.Trainable, report.Total);
                classifier.Dispose();
                Record(allMethods[2], accuracy, watch);
            }
            if (methods.Contains(allMethods[3]))
            {
                var watch = Stopwatch.StartNew();
                using var copy = ModelAssembly.Clone(backbone.Model);
                var (classic, _) = PromptSelfTrainer.ClassicFineTune(copy, backbone.Tokenizer, task, labelled, ft, TorchSharp.torch.CPU,
                    progress: new ConsoleProgress($"{run} classic FT"));
                double accuracy = classic.Accuracy(test);
                long count = copy.parameters().Sum(p => p.numel()); // classic fine-tuning trains all of them
                parameters[allMethods[3]] = (count, count);
                Record(allMethods[3], accuracy, watch);
            }
        }
}

// ---- Tables: mean ± std over seeds (population std, as LiST reports), then parameter counts.
var columns = tasks.SelectMany(t => shots.Select(k => (Task: t.Name, K: k))).ToArray();
var md = new StringBuilder($"Test accuracy (%), mean ± std over seeds {string.Join(",", seeds)} (test_clue, {settings.Rounds} rounds × {settings.PhaseAUpdates} phase-A updates, {settings.TeacherEpochs} teacher epochs):\n\n");
var summaryCsv = AccuracyTable(md, accuracies.Select(a => (a.Task, a.K, a.Method, a.Accuracy)).ToList(), methods, columns);
foreach (var (label, pick) in new (string, Func<(double Majority, double ZeroShot), double>)[] { ("(test majority class)", d => d.Majority), ("(zero-shot prompt, no training)", d => d.ZeroShot) })
{
    md.Append(inv, $"| {label} |");
    foreach (var (t, _) in columns) md.Append(inv, $" {100 * pick(diagnostics[t]):F1} |");
    md.Append(inv, $" {100 * tasks.Average(t => pick(diagnostics[t.Name])):F1} |\n");
}
md.Append("\n| method | trainable parameters | all parameters | trainable % |\n|---|---|---|---|\n");
foreach (var method in methods)
{
    var (trainable, all) = parameters[method];
    md.Append(inv, $"| {method} | {trainable:N0} | {all:N0} | {100.0 * trainable / all:F2} |\n");
}
var runCsv = new StringBuilder("task,k,seed,method,accuracy,seconds\n");
foreach (var a in accuracies) runCsv.Append(inv, $"{a.Task},{a.K},{a.Seed},{a.Method},{a.Accuracy:R},{a.Seconds:F1}\n");
md.Append(inv, $"\nWall time: {total.Elapsed.TotalSeconds:F0} s; per method (all runs): {string.Join(", ", methods.Select(m => string.Create(inv, $"{m} {accuracies.Where(a => a.Method == m).Sum(a => a.Seconds):F0} s")))}\n");

Console.WriteLine("\n\n" + md);
File.WriteAllText(Path.Combine(output, "results.md"), md.ToString());
File.WriteAllText(Path.Combine(output, "summary.csv"), summaryCsv.ToString());
File.WriteAllText(Path.Combine(output, "runs.csv"), runCsv.ToString());
Console.WriteLine($"Written: {Path.Combine(output, "results.md")}, summary.csv, runs.csv");
return 0;

// Mean ± std (population, as LiST reports) per column and method, and their average, as markdown;
// returns the same numbers as CSV.
static StringBuilder AccuracyTable(StringBuilder md, IReadOnlyList<(string Task, int K, string Method, double Accuracy)> runs, string[] methods, (string Task, int K)[] columns)
{
    var inv = CultureInfo.InvariantCulture;
    md.Append("| method |");
    foreach (var (t, k) in columns) md.Append(inv, $" {t} (K={k}) |");
    md.Append(" average |\n|---|").Append(string.Concat(Enumerable.Repeat("---|", columns.Length + 1))).Append('\n');
    var csv = new StringBuilder("task,k,method,mean,std,seeds\n");
    foreach (var method in methods)
    {
        md.Append(inv, $"| {method} |");
        var means = new List<double>();
        foreach (var (t, k) in columns)
        {
            var values = runs.Where(a => a.Task == t && a.K == k && a.Method == method).Select(a => a.Accuracy).ToArray();
            if (values.Length == 0) { md.Append(" – |"); continue; } // a partial sweep: no run of this method here yet
            var summary = SeedSummary.Of(values);
            means.Add(summary.Mean);
            md.Append(inv, $" {100 * summary.Mean:F1} ± {100 * summary.Std:F1} |");
            csv.Append(inv, $"{t},{k},{method},{summary.Mean:R},{summary.Std:R},{summary.Count}\n");
        }
        md.Append(means.Count == columns.Length ? string.Create(inv, $" {100 * means.Average():F1} |\n") : " – |\n");
    }
    return csv;
}

// One row per example; single-sentence tasks leave Sentence2 empty (the trainer does not read it).
static IDataView Rows(MLContext ml, IEnumerable<FewShotExample> examples) =>
    ml.Data.LoadFromEnumerable(examples.Select(e => new ExampleRow
    {
        Sentence1 = e.Texts[0], Sentence2 = e.Texts.Count > 1 ? e.Texts[1] : "", Label = e.Label ?? "",
    }).ToList());

internal sealed class TextRow
{
    public string Text { get; set; } = "";
}

internal sealed class ExampleRow
{
    public string Sentence1 { get; set; } = "";
    public string Sentence2 { get; set; } = "";
    public string Label { get; set; } = "";
}

/// <summary>A one-line progress display on the console (phase, step, loss, ETA).</summary>
internal sealed class ConsoleProgress(string name) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress p)
    {
        if (p.Step % 10 != 0 && p.Step != p.TotalSteps) return;
        Console.Write($"\r   {name} [{p.Phase}]: {p.Step}/{p.TotalSteps} loss {p.Loss:F3} ETA {p.EstimatedRemaining:mm\\:ss}          ");
    }
}
