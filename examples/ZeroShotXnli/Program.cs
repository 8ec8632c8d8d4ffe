// Zero-shot cross-lingual NLI in four stages, for a standard (K = 0) and an active-forgetting (K > 0)
// model pretrained with the same seed and budget: (1) pretrain on English, (2) relearn the token
// embeddings for each target language (body frozen), (3) fine-tune body + classifier on English
// pairs (embeddings frozen), (4) assemble and evaluate on the target language. Prints the
// per-language table (accuracy, macro-F1, standard vs forgetting side by side) and the adaptation
// curves (zero-shot accuracy vs relearning updates), and writes both as Markdown/CSV to --output.
//
//   dotnet run -c Release --project examples/ZeroShotXnli                          # synthetic testbed: en → xa, xb, xc, xd (a few minutes)
//   dotnet run -c Release --project examples/ZeroShotXnli -- --data ../shared/data --languages de,es \
//       [--lines 20000] [--train-examples 5000] [--dev-examples 1000] [--corpus-lines 20000] [--budget 2000000]
//   common options: [--steps 1000] [--k 50] [--relearn-steps 1000] [--curve-interval 250] [--task-epochs 8]
//       [--preset Tiny] [--hidden 64] [--seed 1] [--output out/zeroshot]
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetForgetting.Adaptation;
using MLNetForgetting.Evaluation;
using MLNetForgetting.MLNet.Classification;
using MLNetForgetting.MLNet.CrossLingual;
using MLNetForgetting.MLNet.Pretraining;
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

long steps = Long("steps", 1000);
long k = Long("k", 50);
long relearnSteps = Long("relearn-steps", 1000);
long? budget = arguments.TryGetValue("budget", out var b) && b.Length > 0 ? long.Parse(b, inv) : null; // relearning tokens; the smaller of steps and tokens wins
long curveInterval = Long("curve-interval", Math.Max(1, relearnSteps / 4));
int taskEpochs = Int("task-epochs", 8);
int seed = Int("seed", 1);
string preset = arguments.GetValueOrDefault("preset", "Tiny");
// The synthetic defaults are the settings the core test measured (64% zero-shot on xa): Tiny, width 64.
int? hidden = arguments.ContainsKey("hidden") ? Int("hidden", 64) : preset.Equals("Tiny", StringComparison.OrdinalIgnoreCase) ? 64 : null;
int maxLength = Int("max-length", synthetic ? 64 : 128);
int englishLines = Int("lines", 20_000);
int trainExamples = Int("train-examples", 5000);
int devExamples = Int("dev-examples", 1000);
int corpusLines = Int("corpus-lines", 20_000);
int curveExamples = Int("curve-examples", 300);
int sourceVocabulary = Int("vocab", synthetic ? 400 : 8000);
int targetVocabulary = Int("target-vocab", synthetic ? 600 : 8000);
string output = arguments.GetValueOrDefault("output", Path.Combine("out", "zeroshot"));
if (k <= 0) { Console.Error.WriteLine("error: --k must be positive (K = 0, the standard model, always runs)"); return 2; }

// ---- Inputs: English text for pretraining, English task pairs, and per target a corpus and dev pairs.
var total = Stopwatch.StartNew();
IReadOnlyList<string> englishText;
CrossLingualInputs inputs;
if (synthetic)
{
    var testbed = new SyntheticTestbed();
    var codes = arguments.TryGetValue("languages", out var l) && l.Length > 0 ? l.Split(',') : testbed.TargetLanguages.Select(t => t.Code).ToArray();
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
    var codes = arguments.TryGetValue("languages", out var l) && l.Length > 0 ? l.Split(',') : available;
    var missing = codes.Except(available).ToArray();
    if (missing.Length > 0) { Console.Error.WriteLine($"error: no raw text or XNLI dev set for {string.Join(", ", missing)}; available: {string.Join(", ", available)}"); return 2; }
    Console.WriteLine($"Data: {Path.GetFullPath(data!)}: raw/en ({englishLines} lines), glue_pools/MNLI ({trainExamples} pairs), targets {string.Join(", ", codes)} ({corpusLines} lines, {devExamples} XNLI dev pairs each)");
    englishText = Directory.GetFiles(Path.Combine(data!, "raw", "en"), "*.txt").Order(StringComparer.Ordinal).SelectMany(File.ReadLines)
        .Where(t => !string.IsNullOrWhiteSpace(t)).Take(englishLines).ToArray();
    inputs = CrossLingualInputs.FromDataFolder(data!, codes,
        new DataFolderInputOptions { MaxTrainExamples = trainExamples, MaxDevExamples = devExamples, MaxCorpusLines = corpusLines });
}

var ml = new MLContext(seed);
var labels = inputs.LabelNames;
// A fixed key order (the label set's), so that key k is labels[k - 1] for every data view.
var mapLabel = ml.Transforms.Conversion.MapValueToKey("Label", keyData: ml.Data.LoadFromEnumerable(labels.Select(n => new LabelRow { Label = n })));
IDataView Pairs(IEnumerable<(string Premise, string Hypothesis, int Label)> pairs) =>
    ml.Data.LoadFromEnumerable(pairs.Select(p => new PairRow { Sentence1 = p.Premise, Sentence2 = p.Hypothesis, Label = labels[p.Label] }).ToList());
IDataView Text(IEnumerable<string?> lines) => ml.Data.LoadFromEnumerable(lines.OfType<string>().Select(t => new TextRow { Text = t }).ToList());
var labelMap = mapLabel.Fit(Pairs(inputs.SourceTrain.Take(1)));
var english = Text(englishText);
var train = labelMap.Transform(Pairs(inputs.SourceTrain));

// One tokenizer per language, shared by both models, so that the pair differs only in K.
Console.WriteLine($"Training BPE vocabularies: en ({sourceVocabulary}), targets ({targetVocabulary} each)");
var englishTokenizer = BpeVocabularyTrainer.Train(englishText, new BpeTrainerOptions { VocabSize = sourceVocabulary });
var targetTokenizers = inputs.Targets.ToDictionary(t => t.Code, t => EmbeddingRelearning.TrainVocabulary(t.Corpus, targetVocabulary));
Directory.CreateDirectory(output);

var runs = new List<Run>();
foreach (long resetInterval in new[] { 0L, k })
{
    string name = resetInterval == 0 ? "standard" : $"forgetting-K{resetInterval}";
    var watch = Stopwatch.StartNew();
    Console.WriteLine($"\n== {name}");

    // Stage 1: pretraining on English.
    var pretrained = ml.Transforms.Text.ActiveForgettingPretrainer(new ActiveForgettingPretrainer.Options
    {
        ModelPreset = preset, HiddenSize = hidden, NumAttentionHeads = hidden is null ? null : Math.Max(1, hidden.Value / 16),
        IntermediateSize = hidden is null ? null : 2 * hidden.Value, Tokenizer = englishTokenizer,
        MaxSteps = steps, ResetInterval = resetInterval, BatchSize = 32, MaxSequenceLength = maxLength,
        LearningRate = 2e-3, EmbeddingLearningRate = 2e-3, Seed = seed, Progress = new ConsoleProgress($"{name} pretrain"),
    }).Fit(english);
    Console.WriteLine($"\n   pretrained: {pretrained.History.Steps.Count} updates, {pretrained.History.Events.Count} resets, final loss {pretrained.History.Steps[^1].Loss:F3} ({watch.Elapsed.TotalSeconds:F0} s)");
    pretrained.ExportHistory(Path.Combine(output, $"{name}-pretraining.csv"));

    // Stage 3: task adaptation on English pairs with the token embeddings frozen.
    var taskAdapted = ml.MulticlassClassification.Trainers.SentencePairClassification(new SentencePairClassificationTrainer.Options
    {
        LanguageModel = pretrained, Seed = seed + 1, Progress = new ConsoleProgress($"{name} task adaptation"),
        Settings = new TaskAdaptationSettings { Epochs = taskEpochs, BatchSize = 32, LearningRate = 1e-3, MaxSequenceLength = maxLength, LogInterval = 1000 },
    }).Fit(train);
    var report = new ClassificationReport(labels);
    if (inputs.SourceDev is { } sourceDev)
    {
        var r = Evaluate(ml, report, inputs.SourceLanguage, taskAdapted, labelMap.Transform(Pairs(sourceDev)));
        Console.WriteLine($"\n   {inputs.SourceLanguage}: accuracy {r.Accuracy:P1} after task adaptation ({watch.Elapsed.TotalSeconds:F0} s)");
    }

    // Stages 2 and 4 per target language; the curve splices the embeddings being trained into the task model.
    var curves = new Dictionary<string, IReadOnlyList<(long Step, double Accuracy)>>();
    foreach (var target in inputs.Targets)
    {
        var tokenizer = targetTokenizers[target.Code];
        var curveDev = target.Dev.Take(curveExamples).ToArray();
        var relearned = ml.Transforms.Text.EmbeddingRelearner(new EmbeddingRelearner.Options
        {
            LanguageModel = pretrained, Tokenizer = tokenizer, Seed = seed + 2, Progress = new ConsoleProgress($"{name} relearn {target.Code}"),
            Settings = new RelearningSettings
            {
                MaxSteps = relearnSteps, MaxTokens = budget, BatchSize = 32, MaxSequenceLength = maxLength, LearningRate = 3e-3,
                EvaluationInterval = curveInterval, LogInterval = 1000,
            },
            Evaluate = (model, _) =>
            {
                using var spliced = ModelAssembly.Assemble(taskAdapted.Model, model);
                return new Dictionary<string, double> { ["zero_shot_accuracy"] = TaskAdaptation.Accuracy(spliced, tokenizer, curveDev) };
            },
        }).Fit(Text(target.Corpus()));
        var assembled = taskAdapted.Assemble(relearned, ml, target.Code);
        var result = Evaluate(ml, report, target.Code, assembled, labelMap.Transform(Pairs(target.Dev)));
        curves[target.Code] = relearned.History.Validations.Select(v => (v.Step, v.Metrics["zero_shot_accuracy"])).ToArray();
        relearned.ExportHistory(Path.Combine(output, $"{name}-relearning-{target.Code}.csv"));
        Console.WriteLine($"\n   {target.Code}: zero-shot accuracy {result.Accuracy:P1}, macro-F1 {result.MacroF1:P1} ({watch.Elapsed.TotalSeconds:F0} s)");
    }
    File.WriteAllText(Path.Combine(output, $"{name}-report.csv"), report.ToCsv());
    runs.Add(new Run(name, report, curves, watch.Elapsed));
}

// ---- The tables: per language side by side, then the adaptation curves.
var markdown = new StringBuilder();
var (standard, forgetting) = (runs[0], runs[1]);
markdown.Append(inv, $"| language | accuracy {standard.Name} | accuracy {forgetting.Name} | macro-F1 {standard.Name} | macro-F1 {forgetting.Name} |\n|---|---|---|---|---|\n");
foreach (var r in standard.Report.Results)
{
    var f = forgetting.Report[r.Language];
    markdown.Append(inv, $"| {r.Language} | {100 * r.Accuracy:F1} | {100 * f.Accuracy:F1} | {100 * r.MacroF1:F1} | {100 * f.MacroF1:F1} |\n");
}
var targetCodes = inputs.Targets.Select(t => t.Code).ToArray();
double Mean(Run run, Func<LanguageResult, double> metric) => targetCodes.Average(c => metric(run.Report[c]));
markdown.Append(inv, $"| avg ({targetCodes.Length} targets) | {100 * Mean(standard, x => x.Accuracy):F1} | {100 * Mean(forgetting, x => x.Accuracy):F1} | {100 * Mean(standard, x => x.MacroF1):F1} | {100 * Mean(forgetting, x => x.MacroF1):F1} |\n");

var curveTable = new StringBuilder("\nZero-shot accuracy (%) on the first " + curveExamples.ToString(inv) + " dev pairs vs relearning updates:\n\n| updates |");
foreach (var c in targetCodes) curveTable.Append(inv, $" {c} std | {c} fgt |");
curveTable.Append("\n|---|").Append(string.Concat(Enumerable.Repeat("---|", 2 * targetCodes.Length))).Append('\n');
var curveCsv = new StringBuilder("language,model,step,zero_shot_accuracy\n");
foreach (long step in runs.SelectMany(r => r.Curves.Values.SelectMany(c => c.Select(p => p.Step))).Distinct().Order())
{
    curveTable.Append(inv, $"| {step} |");
    foreach (var c in targetCodes)
        foreach (var run in runs)
            curveTable.Append(run.Curves[c].Where(p => p.Step == step).Select(p => string.Create(inv, $" {100 * p.Accuracy:F1} |")).FirstOrDefault(" |"));
    curveTable.Append('\n');
}
foreach (var run in runs) foreach (var (c, points) in run.Curves) foreach (var (step, accuracy) in points)
    curveCsv.Append(inv, $"{c},{run.Name},{step},{accuracy:R}\n");

Console.WriteLine("\n\n" + markdown + curveTable);
Console.WriteLine($"Wall time: {standard.Name} {standard.Time.TotalSeconds:F0} s, {forgetting.Name} {forgetting.Time.TotalSeconds:F0} s, total {total.Elapsed.TotalSeconds:F0} s");
File.WriteAllText(Path.Combine(output, "results.md"), markdown.ToString() + curveTable + "\n" + string.Join("\n", runs.Select(r => $"\n### {r.Name}\n\n{r.Report.ToMarkdown()}")));
File.WriteAllText(Path.Combine(output, "curves.csv"), curveCsv.ToString());
Console.WriteLine($"Written: {Path.Combine(output, "results.md")}, {Path.Combine(output, "curves.csv")}, per-model reports and histories (*.csv)");
return 0;

// Scores a labelled view with ML.NET's evaluator (accuracy) and adds gold/predicted keys to the report (macro-F1, confusion).
static LanguageResult Evaluate(MLContext ml, ClassificationReport report, string language, SentencePairClassifierTransformer model, IDataView labelled)
{
    var scored = model.Transform(labelled);
    var metrics = ml.MulticlassClassification.Evaluate(scored, "Label", "Score", "PredictedLabel");
    var rows = ml.Data.CreateEnumerable<ScoredRow>(scored, reuseRowObject: false).ToList();
    var result = report.Add(language, rows.Select(r => (int)r.Label - 1).ToArray(), rows.Select(r => (int)r.PredictedLabel - 1).ToArray());
    if (Math.Abs(result.Accuracy - metrics.MicroAccuracy) > 1e-9)
        throw new InvalidOperationException($"{language}: ML.NET accuracy {metrics.MicroAccuracy} differs from the report's {result.Accuracy}");
    return result;
}

internal sealed record Run(string Name, ClassificationReport Report, Dictionary<string, IReadOnlyList<(long Step, double Accuracy)>> Curves, TimeSpan Time);

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
