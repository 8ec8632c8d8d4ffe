// Zero-shot cross-lingual NLI in four stages, for a standard (K = 0) and an active-forgetting (K > 0)
// model pretrained with the same seed and budget: (1) pretrain on English, (2) relearn the token
// embeddings for each target language (body frozen), (3) fine-tune body + classifier on English
// pairs (embeddings frozen), (4) assemble and evaluate on the target language. Prints the
// per-language table (standard vs forgetting side by side at each relearning budget; mean ± std
// over seeds when several are given) and the adaptation curves (zero-shot accuracy and MLM loss vs
// relearning updates), and writes them as Markdown/CSV/PNG to --output (PNGs to --plots).
//
//   dotnet run -c Release --project examples/ZeroShotXnli                          # synthetic testbed: en → xa, xb, xc, xd (a few minutes)
//   dotnet run -c Release --project examples/ZeroShotXnli -- --data ../shared/data [--languages de,es] \
//       [--lines 20000] [--train-examples 5000] [--dev-examples 1000] [--corpus-lines 20000] [--budgets 100000,1000000]
//   common options: [--steps 1000] [--k 50] [--relearn-steps 1000] [--curve-points 6] [--task-epochs 8] [--task-lr 1e-3]
//       [--preset Tiny] [--hidden 64] [--layers N] [--seeds 1,2,3] [--output out/zeroshot] [--plots DIR] [--plot-prefix NAME]
//       [--runs DIR]          cache of every trained model (zip) and evaluation, reused by a rerun with the same options
//       [--models standard|forgetting|both]   train only one of the pair (two processes can share --runs; a final
//                             --models both run then only loads, tabulates and plots)
// benchmarks/plasticity.sh runs the recorded plasticity study (docs/benchmarks.md) with one command.
using MLNetForgetting.MLNet.Persistence;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetForgetting.Adaptation;
using MLNetForgetting.Cli.Reporting;
using MLNetForgetting.Evaluation;
using MLNetForgetting.MLNet.Classification;
using MLNetForgetting.MLNet.CrossLingual;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Persistence;
using MLNetForgetting.Synthetic;
using MLNetForgetting.Text;
using MLNetForgetting.Training;

var inv = CultureInfo.InvariantCulture;
var arguments = args.Select((a, i) => (a, i)).Where(p => p.a.StartsWith("--", StringComparison.Ordinal))
    .ToDictionary(p => p.a[2..], p => p.i + 1 < args.Length && !args[p.i + 1].StartsWith("--", StringComparison.Ordinal) ? args[p.i + 1] : "");
string? data = arguments.GetValueOrDefault("data");
bool synthetic = data is null;
int Int(string name, int fallback) => arguments.TryGetValue(name, out var v) && v.Length > 0 ? int.Parse(v, inv) : fallback;
long Long(string name, long fallback) => arguments.TryGetValue(name, out var v) && v.Length > 0 ? long.Parse(v, inv) : fallback;
string[]? List(string name) => arguments.TryGetValue(name, out var v) && v.Length > 0 ? v.Split(',') : null;

long steps = Long("steps", 1000);
long k = Long("k", 50);
long relearnSteps = Long("relearn-steps", 1000);
// Relearning budgets in tokens (the smaller of steps and tokens wins); none: --relearn-steps updates.
long?[] budgets = (List("budgets") ?? List("budget"))?.Select(b => (long?)long.Parse(b, inv)).ToArray() ?? new long?[] { null };
int curvePoints = Int("curve-points", 6);
int taskEpochs = Int("task-epochs", 8);
double taskLearningRate = arguments.TryGetValue("task-lr", out var lr) && lr.Length > 0 ? double.Parse(lr, inv) : 1e-3;
int[] seeds = (List("seeds") ?? List("seed"))?.Select(s => int.Parse(s, inv)).ToArray() ?? new[] { 1 };
string preset = arguments.GetValueOrDefault("preset", "Tiny");
// The synthetic defaults are the settings the core test measured (64% zero-shot on xa): Tiny, width 64.
int? hidden = arguments.ContainsKey("hidden") ? Int("hidden", 64) : preset.Equals("Tiny", StringComparison.OrdinalIgnoreCase) ? 64 : null;
int? layers = arguments.ContainsKey("layers") ? Int("layers", 2) : null;
int maxLength = Int("max-length", synthetic ? 64 : 128);
int englishLines = Int("lines", 20_000);
int trainExamples = Int("train-examples", 5000);
int devExamples = Int("dev-examples", 1000);
int corpusLines = Int("corpus-lines", 20_000);
int curveExamples = Int("curve-examples", 300);
int sourceVocabulary = Int("vocab", synthetic ? 400 : 8000);
int targetVocabulary = Int("target-vocab", synthetic ? 600 : 8000);
string output = arguments.GetValueOrDefault("output", Path.Combine("out", "zeroshot"));
string plots = arguments.GetValueOrDefault("plots", output);
string plotPrefix = arguments.GetValueOrDefault("plot-prefix", synthetic ? "zeroshot-synthetic" : "zeroshot-real");
string? runsDirectory = arguments.GetValueOrDefault("runs");
string models = arguments.GetValueOrDefault("models", "both");
if (k <= 0) { Console.Error.WriteLine("error: --k must be positive (K = 0, the standard model, always runs)"); return 2; }
if (models is not ("both" or "standard" or "forgetting")) { Console.Error.WriteLine($"error: --models '{models}' must be standard, forgetting or both"); return 2; }
if (budgets.Any(b => b is <= 0)) { Console.Error.WriteLine("error: every --budgets entry must be a positive number of tokens"); return 2; }

// A cache is only valid for the options that produced it: refuse to mix runs.
if (runsDirectory is not null)
{
    Directory.CreateDirectory(runsDirectory);
    var ignored = new HashSet<string> { "output", "plots", "plot-prefix", "runs", "models" };
    string config = string.Join(" ", arguments.Where(a => !ignored.Contains(a.Key)).OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"--{a.Key} {a.Value}".TrimEnd()));
    string configFile = Path.Combine(runsDirectory, "options.txt");
    if (File.Exists(configFile) && File.ReadAllText(configFile).Trim() != config)
    {
        Console.Error.WriteLine($"error: {runsDirectory} holds models trained with other options ({File.ReadAllText(configFile).Trim()}); use another --runs folder or delete it");
        return 2;
    }
    AtomicFile.WriteAllText(configFile, config + "\n");
}

// ---- Inputs: English text for pretraining, English task pairs, and per target a corpus and dev pairs.
var total = Stopwatch.StartNew();
IReadOnlyList<string> englishText;
CrossLingualInputs inputs;
if (synthetic)
{
    var testbed = new SyntheticTestbed();
    var codes = List("languages") ?? testbed.TargetLanguages.Select(t => t.Code).ToArray();
    Console.WriteLine($"Data: the synthetic testbed, English → {string.Join(", ", codes)} (pass --data ../shared/data for real text, MNLI and XNLI).");
    englishText = testbed.UnlabelledCorpus("en", englishLines, SyntheticTestbed.DatasetCorpusSeed).ToArray();
    inputs = CrossLingualInputs.FromSyntheticTestbed(testbed, codes,
        new SyntheticInputOptions { TrainExamples = trainExamples, DevExamples = devExamples, CorpusSentences = corpusLines });
}
else
{
    if (!Directory.Exists(data)) { Console.Error.WriteLine($"error: data folder '{data}' does not exist"); return 2; }
    // Every language with both raw text and an XNLI dev set, unless --languages picks some.
    var available = Directory.GetDirectories(Path.Combine(data!, "raw")).Select(Path.GetFileName).OfType<string>()
        .Where(c => c != "en" && File.Exists(Path.Combine(data!, "xnli", "dev", $"dev.{c}.tsv"))).Order(StringComparer.Ordinal).ToArray();
    var codes = List("languages") ?? available;
    var missing = codes.Except(available).ToArray();
    if (missing.Length > 0) { Console.Error.WriteLine($"error: no raw text or XNLI dev set for {string.Join(", ", missing)}; available: {string.Join(", ", available)}"); return 2; }
    Console.WriteLine($"Data: {Path.GetFullPath(data!)}: raw/en ({englishLines} lines), glue_pools/MNLI ({trainExamples} pairs), targets {string.Join(", ", codes)} ({corpusLines} lines, {devExamples} XNLI dev pairs each)");
    englishText = Directory.GetFiles(Path.Combine(data!, "raw", "en"), "*.txt").Order(StringComparer.Ordinal).SelectMany(File.ReadLines)
        .Where(t => !string.IsNullOrWhiteSpace(t)).Take(englishLines).ToArray();
    inputs = CrossLingualInputs.FromDataFolder(data!, codes,
        new DataFolderInputOptions { MaxTrainExamples = trainExamples, MaxDevExamples = devExamples, MaxCorpusLines = corpusLines });
}

var labels = inputs.LabelNames;
var targetCodes = inputs.Targets.Select(t => t.Code).ToArray();
string BudgetLabel(long? budget) => budget switch
{
    null => $"{relearnSteps} updates",
    >= 1_000_000 when budget % 1_000_000 == 0 => $"{budget / 1_000_000}M tokens",
    >= 1_000 when budget % 1_000 == 0 => $"{budget / 1_000}k tokens",
    _ => $"{budget} tokens",
};
string BudgetFile(long? budget) => BudgetLabel(budget).Replace(" tokens", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal);

// One tokenizer per language, shared by both models and all seeds (BPE training is deterministic),
// so that the pair differs only in K. Trained on first use: cached models carry their own tokenizer.
var targetTokenizers = inputs.Targets.ToDictionary(t => t.Code, t => new Lazy<SubwordTokenizer>(() =>
{
    Console.WriteLine($"\n   training the {t.Code} BPE vocabulary ({targetVocabulary})");
    return EmbeddingRelearning.TrainVocabulary(t.Corpus, targetVocabulary);
}));
SubwordTokenizer? englishTokenizer = null;
Directory.CreateDirectory(output);
Directory.CreateDirectory(plots);

var cells = new List<Cell>();
var curves = new List<Curve>();
var pair = new[] { 0L, k }.Select(K => (K, Name: K == 0 ? "standard" : $"forgetting-K{K}"))
    .Where(m => models == "both" || m.Name.StartsWith(models, StringComparison.Ordinal)).ToArray();
var names = pair.Select(m => m.Name).ToList();
// Seed outermost: a run cut short still has both models for the seeds it finished.
foreach (int seed in seeds)
{
    foreach (var (resetInterval, name) in pair)
    {
        var ml = new MLContext(seed);
        var watch = Stopwatch.StartNew();
        string tag = seeds.Length > 1 ? $"{name} seed {seed}" : name;
        // Where this model's artefacts live in the cache (one folder per seed when there are several).
        string? Cached(string file) => runsDirectory is null ? null : Path.Combine(runsDirectory, seeds.Length > 1 ? $"seed{seed}" : "", file);
        Console.WriteLine($"\n== {tag}");

        // A fixed key order (the label set's), so that key k is labels[k - 1] for every data view.
        var mapLabel = ml.Transforms.Conversion.MapValueToKey("Label", keyData: ml.Data.LoadFromEnumerable(labels.Select(n => new LabelRow { Label = n })));
        IDataView Pairs(IEnumerable<(string Premise, string Hypothesis, int Label)> pairs) =>
            ml.Data.LoadFromEnumerable(pairs.Select(p => new PairRow { Sentence1 = p.Premise, Sentence2 = p.Hypothesis, Label = labels[p.Label] }).ToList());
        IDataView Text(IEnumerable<string?> lines) => ml.Data.LoadFromEnumerable(lines.OfType<string>().Select(t => new TextRow { Text = t }).ToList());
        var labelMap = mapLabel.Fit(Pairs(inputs.SourceTrain.Take(1)));

        // Stage 1: pretraining on English.
        var pretrained = LoadOrFit<LanguageModelTransformer>(ml, Cached($"en-{name}.zip"), Text(englishText.Take(1)).Schema, () =>
        {
            Console.WriteLine($"   training the English BPE vocabulary ({sourceVocabulary})");
            englishTokenizer ??= BpeVocabularyTrainer.Train(englishText, new BpeTrainerOptions { VocabSize = sourceVocabulary });
            return ml.Transforms.Text.ActiveForgettingPretrainer(new ActiveForgettingPretrainer.Options
            {
                ModelPreset = preset, HiddenSize = hidden, NumLayers = layers, NumAttentionHeads = hidden is null ? null : Math.Max(1, hidden.Value / 16),
                IntermediateSize = hidden is null ? null : 2 * hidden.Value, Tokenizer = englishTokenizer,
                MaxSteps = steps, ResetInterval = resetInterval, BatchSize = 32, MaxSequenceLength = maxLength,
                LearningRate = 2e-3, EmbeddingLearningRate = 2e-3, Seed = seed, Progress = new ConsoleProgress($"{tag} pretrain"),
            }).Fit(Text(englishText));
        });
        Console.WriteLine($"\n   pretrained: {pretrained.History.Steps.Count} updates, {pretrained.History.Events.Count(e => e.Kind == "reset")} resets, final loss {pretrained.History.Steps[^1].Loss:F3} ({watch.Elapsed.TotalSeconds:F0} s)");
        pretrained.ExportHistory(Path.Combine(output, $"{name}-s{seed}-pretraining.csv"));

        // Stage 3: task adaptation on English pairs with the token embeddings frozen.
        var train = labelMap.Transform(Pairs(inputs.SourceTrain));
        var taskAdapted = LoadOrFit<SentencePairClassifierTransformer>(ml, Cached($"en-{name}-task.zip"), train.Schema, () =>
            ml.MulticlassClassification.Trainers.SentencePairClassification(new SentencePairClassificationTrainer.Options
            {
                LanguageModel = pretrained, Seed = seed + 1, Progress = new ConsoleProgress($"{tag} task adaptation"),
                Settings = new TaskAdaptationSettings { Epochs = taskEpochs, BatchSize = 32, LearningRate = taskLearningRate, MaxSequenceLength = maxLength, LogInterval = 1000 },
            }).Fit(train));
        var english = inputs.SourceDev is { } sourceDev
            ? EvaluateOrLoad(ml, labelMap.Transform(Pairs(sourceDev)), taskAdapted, Cached($"en-{name}-task.eval.json"))
            : null;
        if (english is not null) Console.WriteLine($"\n   {inputs.SourceLanguage}: accuracy {Accuracy(english):P1} after task adaptation ({watch.Elapsed.TotalSeconds:F0} s)");

        // Stages 2 and 4 per target language and budget; the curve splices the embeddings being trained into the task model.
        foreach (long? budget in budgets)
        {
            var report = new ClassificationReport(labels);
            if (english is not null) report.Add(inputs.SourceLanguage, english.Gold, english.Predicted);
            foreach (var target in inputs.Targets)
            {
                var curveDev = target.Dev.Take(curveExamples).ToArray();
                // About curvePoints evaluations over the run: the number of updates is estimated from full-length batches.
                long expected = budget is { } b ? Math.Max(1, b / (32L * maxLength)) : relearnSteps;
                string unit = $"{target.Code}-{name}-{BudgetFile(budget)}";
                var relearned = LoadOrFit<LanguageModelTransformer>(ml, Cached($"{unit}.zip"), Text(target.Corpus().Take(1)).Schema, () =>
                    ml.Transforms.Text.EmbeddingRelearner(new EmbeddingRelearner.Options
                    {
                        LanguageModel = pretrained, Tokenizer = targetTokenizers[target.Code].Value, Seed = seed + 2, Progress = new ConsoleProgress($"{tag} relearn {target.Code} {BudgetLabel(budget)}"),
                        Settings = new RelearningSettings
                        {
                            MaxSteps = relearnSteps, MaxTokens = budget, BatchSize = 32, MaxSequenceLength = maxLength, LearningRate = 3e-3,
                            EvaluationInterval = Math.Max(1, expected / Math.Max(1, curvePoints)), LogInterval = 1000,
                        },
                        Evaluate = (model, _) =>
                        {
                            using var spliced = ModelAssembly.Assemble(taskAdapted.Model, model);
                            return new Dictionary<string, double> { ["zero_shot_accuracy"] = TaskAdaptation.Accuracy(spliced, targetTokenizers[target.Code].Value, curveDev) };
                        },
                    }).Fit(Text(target.Corpus())));
                var assembled = taskAdapted.Assemble(relearned, ml, target.Code);
                var predictions = EvaluateOrLoad(ml, labelMap.Transform(Pairs(target.Dev)), assembled, Cached($"{unit}.eval.json"));
                var result = report.Add(target.Code, predictions.Gold, predictions.Predicted);
                curves.Add(new Curve(name, seed, budget, target.Code, relearned.History));
                relearned.ExportHistory(Path.Combine(output, $"{unit}-s{seed}-relearning.csv"));
                Console.WriteLine($"\n   {target.Code} ({BudgetLabel(budget)}, {relearned.History.Steps.Count} updates): zero-shot accuracy {result.Accuracy:P1}, macro-F1 {result.MacroF1:P1} ({watch.Elapsed.TotalSeconds:F0} s)");
            }
            File.WriteAllText(Path.Combine(output, $"{name}-s{seed}-{BudgetFile(budget)}-report.csv"), report.ToCsv());
            File.WriteAllText(Path.Combine(output, $"{name}-s{seed}-{BudgetFile(budget)}-report.md"), report.ToMarkdown());
            cells.AddRange(report.Results.Select(r => new Cell(name, seed, budget, r.Language, r.Accuracy, r.MacroF1)));
        }
        Console.WriteLine($"   {tag}: {watch.Elapsed.TotalSeconds:F0} s");
    }
}

// ---- The table: per language, each budget with the models side by side (mean ± std over seeds).
string Stat(IEnumerable<double> values)
{
    var v = values.Select(x => 100 * x).ToArray();
    if (v.Length == 0) return "";
    double mean = v.Average();
    return v.Length == 1 ? mean.ToString("F1", inv) : string.Create(inv, $"{mean:F1} ± {Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)):F1}");
}
var markdown = new StringBuilder();
markdown.Append(inv, $"Zero-shot accuracy (%) per language ({(seeds.Length > 1 ? $"mean ± sample std over seeds {string.Join(", ", seeds)}" : $"seed {seeds[0]}")}; {inputs.SourceLanguage}: after task adaptation, no relearning):\n\n| language |");
foreach (var budget in budgets) foreach (var n in names) markdown.Append(inv, $" {BudgetLabel(budget)} {n} |");
markdown.Append("\n|---|").Append(string.Concat(Enumerable.Repeat("---|", budgets.Length * names.Count))).Append('\n');
foreach (var language in cells.Select(c => c.Language).Distinct())
{
    markdown.Append(inv, $"| {language} |");
    foreach (var budget in budgets) foreach (var n in names)
        markdown.Append(inv, $" {Stat(cells.Where(c => c.Model == n && c.Budget == budget && c.Language == language).Select(c => c.Accuracy))} |");
    markdown.Append('\n');
}
// Averages over the targets: per seed first, so the spread is the seeds' spread of the average.
markdown.Append(inv, $"| avg ({targetCodes.Length} targets) |");
foreach (var budget in budgets) foreach (var n in names)
    markdown.Append(inv, $" {Stat(seeds.Select(s => cells.Where(c => c.Model == n && c.Seed == s && c.Budget == budget && targetCodes.Contains(c.Language)).Average(c => c.Accuracy)))} |");
markdown.Append('\n');

// ---- Adaptation curves: CSV of every point, and PNGs of the mean over targets and seeds per budget.
var curveCsv = new StringBuilder("language,model,seed,budget_tokens,step,zero_shot_accuracy\n");
foreach (var c in curves) foreach (var v in c.History.Validations)
    curveCsv.Append(inv, $"{c.Language},{c.Model},{c.Seed},{c.Budget},{v.Step},{v.Metrics["zero_shot_accuracy"]:R}\n");
var pngs = new List<string>();
foreach (var budget in budgets)
{
    var series = names.Select(n => new HistoryPlot.Series(n, MeanHistory(curves.Where(c => c.Model == n && c.Budget == budget).Select(c => c.History).ToArray()))).ToArray();
    if (series.Length == 0 || series.Any(s => s.History.Steps.Count == 0)) continue;
    string what = $"{(synthetic ? "synthetic" : "XNLI")}, {BudgetLabel(budget)}, mean of {targetCodes.Length} languages{(seeds.Length > 1 ? $" × {seeds.Length} seeds" : "")}";
    string accuracyPng = Path.Combine(plots, $"{plotPrefix}-{BudgetFile(budget)}-accuracy.png"), lossPng = Path.Combine(plots, $"{plotPrefix}-{BudgetFile(budget)}-loss.png");
    HistoryPlot.Save(series, accuracyPng, PlotKind.Validation, metric: "zero_shot_accuracy", title: $"Zero-shot accuracy while relearning ({what})");
    HistoryPlot.Save(series, lossPng, PlotKind.Loss, smooth: 5, title: $"Relearning MLM loss ({what}; mean of 5 updates)");
    pngs.AddRange(new[] { accuracyPng, lossPng });
}

Console.WriteLine("\n\n" + markdown);
Console.WriteLine($"Wall time: total {total.Elapsed.TotalSeconds:F0} s");
File.WriteAllText(Path.Combine(output, "results.md"), markdown.ToString());
File.WriteAllText(Path.Combine(output, "curves.csv"), curveCsv.ToString());
Console.WriteLine($"Written: {Path.Combine(output, "results.md")}, {Path.Combine(output, "curves.csv")}, {string.Join(", ", pngs)}, per-model reports and histories (*.csv)");
return 0;

// Loads the transformer cached at path, or fits it and caches it (atomically) when a cache is in use.
static T LoadOrFit<T>(MLContext ml, string? path, DataViewSchema schema, Func<T> fit) where T : class, ITransformer
{
    if (path is not null && File.Exists(path))
    {
        Console.WriteLine($"   loaded {path}");
        return ml.Model.Load(path, out _) as T ?? throw new InvalidDataException($"{path} does not hold a {typeof(T).Name}");
    }
    var model = fit();
    if (path is not null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        ml.Model.SaveAtomic(model, schema, path);
    }
    return model;
}

// Scores a labelled view with ML.NET's evaluator and returns gold/predicted label ids (cached as JSON at path).
static Predictions EvaluateOrLoad(MLContext ml, IDataView labelled, SentencePairClassifierTransformer model, string? path)
{
    if (path is not null && File.Exists(path)) return JsonSerializer.Deserialize<Predictions>(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path} is empty");
    var scored = model.Transform(labelled);
    var metrics = ml.MulticlassClassification.Evaluate(scored, "Label", "Score", "PredictedLabel");
    var rows = ml.Data.CreateEnumerable<ScoredRow>(scored, reuseRowObject: false).ToList();
    var predictions = new Predictions(rows.Select(r => (int)r.Label - 1).ToArray(), rows.Select(r => (int)r.PredictedLabel - 1).ToArray());
    if (Math.Abs(Accuracy(predictions) - metrics.MicroAccuracy) > 1e-9)
        throw new InvalidOperationException($"ML.NET accuracy {metrics.MicroAccuracy} differs from the predictions' {Accuracy(predictions)}");
    if (path is not null) AtomicFile.WriteAllText(path, JsonSerializer.Serialize(predictions));
    return predictions;
}

static double Accuracy(Predictions p) => p.Gold.Zip(p.Predicted).Count(x => x.First == x.Second) / (double)p.Gold.Length;

// The mean curve of several runs: losses averaged per update over the updates all runs have, and each
// metric averaged over the evaluation steps all runs share (token budgets give each language its own length).
static TrainingHistory MeanHistory(IReadOnlyList<TrainingHistory> histories)
{
    var mean = new TrainingHistory();
    if (histories.Count == 0) return mean;
    int n = histories.Min(h => h.Steps.Count);
    for (int i = 0; i < n; i++)
        mean.Steps.Add(new StepRecord(histories[0].Steps[i].Step, histories.Average(h => h.Steps[i].Loss), 0, new Dictionary<string, double>()));
    var shared = histories.Select(h => h.Validations.Select(v => v.Step)).Aggregate((a, b) => a.Intersect(b)).Order().ToArray();
    foreach (long step in shared)
    {
        var points = histories.Select(h => h.Validations.Last(v => v.Step == step).Metrics).ToArray();
        mean.Validations.Add(new ValidationRecord(step, points[0].Keys.ToDictionary(m => m, m => points.Average(p => p[m]))));
    }
    return mean;
}

internal sealed record Cell(string Model, int Seed, long? Budget, string Language, double Accuracy, double MacroF1);
internal sealed record Curve(string Model, int Seed, long? Budget, string Language, TrainingHistory History);
internal sealed record Predictions(int[] Gold, int[] Predicted);

internal sealed class TextRow
{
    public string Text { get; set; } = "";
}

internal sealed class LabelRow
{
    public string Label { get; set; } = "";
}

internal sealed class PairRow
{
    public string Sentence1 { get; set; } = "";
    public string Sentence2 { get; set; } = "";
    public string Label { get; set; } = "";
}

internal sealed class ScoredRow
{
    [KeyType(3)] public uint Label { get; set; }
    [KeyType(3)] public uint PredictedLabel { get; set; }
}

/// <summary>A one-line progress display on the console (phase, step, loss, ETA).</summary>
internal sealed class ConsoleProgress(string name) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress p)
    {
        if (p.Step % 25 != 0 && p.Step != p.TotalSteps) return;
        Console.Write($"\r   {name}: {p.Step}/{p.TotalSteps} loss {p.Loss:F3} {p.TokensPerSecond:F0} tok/s ETA {p.EstimatedRemaining:mm\\:ss}      ");
    }
}
