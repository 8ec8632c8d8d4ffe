// Zero-shot cross-lingual NLI in four stages, for a standard (K = 0) and an active-forgetting (K > 0)
// model pretrained with the same seed and budget: (1) pretrain on English, (2) relearn the token
// embeddings for each target language (body frozen), (3) fine-tune body + classifier on English
// pairs (embeddings frozen), (4) assemble and evaluate on the target language. Prints the
// per-language table (standard vs forgetting side by side at each relearning budget; mean ± std
// over seeds when several are given) and the adaptation curves (zero-shot accuracy and MLM loss vs
// relearning updates), and writes them as Markdown/CSV/PNG to --output (PNGs to --plots). Stages 2-4 and
// the evaluation are the library's one orchestrator, MLNet.CrossLingual.CrossLingualPipeline; this
// program pretrains, caches models (--runs) and tabulates. `--help` lists every option.
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
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML;
using MLNetForgetting.Adaptation;
using MLNetForgetting.MLNet.CrossLingual;
using MLNetForgetting.MLNet.Persistence;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Persistence;
using MLNetForgetting.Synthetic;
using MLNetForgetting.Text;
using MLNetForgetting.Training;
using ZeroShotXnli;

var inv = CultureInfo.InvariantCulture;
Option<T> Opt<T>(string name, string description, T fallback, params string[] aliases) =>
    new(name, aliases) { Description = description, DefaultValueFactory = _ => fallback };
Option<T?> Maybe<T>(string name, string description) where T : struct => new(name) { Description = description };
var dataOption = new Option<string?>("--data") { Description = "Dataset folder in the shared-data layout (raw/{lang}/*.txt, glue_pools/MNLI/train.tsv, xnli/dev/dev.{lang}.tsv); default: the synthetic testbed" };
var languagesOption = new Option<string?>("--languages") { Description = "Target languages, comma-separated (default: every target of the testbed, or every language of --data with raw text and an XNLI dev set)" };
var stepsOption = Opt<long>("--steps", "Pretraining updates per model", 1000);
var kOption = Opt<long>("--k", "Reset interval K of the forgetting model (K = 0, the standard model, always runs)", 50);
var relearnStepsOption = Opt<long>("--relearn-steps", "Relearning updates (the smaller of this and a token budget wins)", 1000);
var budgetsOption = new Option<string?>("--budgets", "--budget") { Description = "Relearning budgets in tokens, comma-separated (default: --relearn-steps updates)" };
var curvePointsOption = Opt("--curve-points", "Adaptation-curve points per relearning run", 6);
var taskEpochsOption = Opt("--task-epochs", "Task-adaptation epochs", 8);
var taskLrOption = Opt("--task-lr", "Task-adaptation learning rate", 1e-3);
var seedsOption = new Option<string?>("--seeds", "--seed") { Description = "Seeds, comma-separated (mean ± std over seeds when several); default 1" };
var presetOption = Opt("--preset", "Model size preset (Tiny, Small, Base)", "Tiny");
var hiddenOption = Maybe<int>("--hidden", "Model width (default: 64 for Tiny, else the preset's)");
var layersOption = Maybe<int>("--layers", "Layers (default: the preset's)");
var maxLengthOption = Maybe<int>("--max-length", "Longest sequence in tokens (default 64 synthetic, 128 real)");
var linesOption = Opt("--lines", "English pretraining lines", 20_000);
var trainExamplesOption = Opt("--train-examples", "English task pairs", 5000);
var devExamplesOption = Opt("--dev-examples", "Dev pairs per language", 1000);
var corpusLinesOption = Opt("--corpus-lines", "Target corpus lines per language", 20_000);
var curveExamplesOption = Opt("--curve-examples", "Dev pairs the adaptation curve is measured on", 300);
var vocabOption = Maybe<int>("--vocab", "English BPE vocabulary (default 400 synthetic, 8000 real)");
var targetVocabOption = Maybe<int>("--target-vocab", "Target BPE vocabulary (default 600 synthetic, 8000 real)");
var outputOption = Opt("--output", "Folder for tables, CSVs and histories", Path.Combine("out", "zeroshot"));
var plotsOption = new Option<string?>("--plots") { Description = "Folder for the PNGs (default: --output)" };
var plotPrefixOption = new Option<string?>("--plot-prefix") { Description = "File-name prefix of the PNGs (default zeroshot-synthetic or zeroshot-real)" };
var runsOption = new Option<string?>("--runs") { Description = "Cache of every trained model (zip), reused by a rerun with the same options" };
var modelsOption = Opt("--models", "Train only one of the pair (two processes can share --runs; a final --models both run then only loads, tabulates and plots)", "both");
modelsOption.AcceptOnlyFromAmong("both", "standard", "forgetting");
kOption.Validators.Add(r => { if (r.GetValueOrDefault<long>() <= 0) r.AddError("--k must be positive (K = 0, the standard model, always runs)"); });

var root = new RootCommand("Zero-shot cross-lingual NLI in four stages for a standard and an active-forgetting model pretrained with the same seed and budget.")
{
    dataOption, languagesOption, stepsOption, kOption, relearnStepsOption, budgetsOption, curvePointsOption, taskEpochsOption, taskLrOption, seedsOption,
    presetOption, hiddenOption, layersOption, maxLengthOption, linesOption, trainExamplesOption, devExamplesOption, corpusLinesOption, curveExamplesOption,
    vocabOption, targetVocabOption, outputOption, plotsOption, plotPrefixOption, runsOption, modelsOption,
};
root.SetAction(parse => Run(parse));
return root.Parse(args).Invoke();

int Run(ParseResult parse)
{
    string? data = parse.GetValue(dataOption);
    bool synthetic = data is null;
    string[]? List(Option<string?> option) => parse.GetValue(option) is { Length: > 0 } v ? v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : null;
    long k = parse.GetValue(kOption), steps = parse.GetValue(stepsOption), relearnSteps = parse.GetValue(relearnStepsOption);
    long?[] budgets;
    int[] seeds;
    try
    {
        // Relearning budgets in tokens (the smaller of steps and tokens wins); none: --relearn-steps updates.
        budgets = List(budgetsOption)?.Select(b => (long?)long.Parse(b, inv)).ToArray() ?? new long?[] { null };
        seeds = List(seedsOption)?.Select(x => int.Parse(x, inv)).ToArray() ?? new[] { 1 };
    }
    catch (FormatException) { Console.Error.WriteLine("error: --budgets and --seeds take comma-separated whole numbers"); return 2; }
    if (budgets.Any(b => b is <= 0)) { Console.Error.WriteLine("error: every --budgets entry must be a positive number of tokens"); return 2; }
    string preset = parse.GetValue(presetOption)!;
    // The synthetic defaults are the settings the core test measured (64% zero-shot on xa): Tiny, width 64.
    int? hidden = parse.GetValue(hiddenOption) ?? (preset.Equals("Tiny", StringComparison.OrdinalIgnoreCase) ? 64 : null);
    int? layers = parse.GetValue(layersOption);
    int maxLength = parse.GetValue(maxLengthOption) ?? (synthetic ? 64 : 128);
    int englishLines = parse.GetValue(linesOption), trainExamples = parse.GetValue(trainExamplesOption), devExamples = parse.GetValue(devExamplesOption);
    int corpusLines = parse.GetValue(corpusLinesOption), curveExamples = parse.GetValue(curveExamplesOption);
    int sourceVocabulary = parse.GetValue(vocabOption) ?? (synthetic ? 400 : 8000);
    int targetVocabulary = parse.GetValue(targetVocabOption) ?? (synthetic ? 600 : 8000);
    string output = parse.GetValue(outputOption)!;
    string plots = parse.GetValue(plotsOption) ?? output;
    string plotPrefix = parse.GetValue(plotPrefixOption) ?? (synthetic ? "zeroshot-synthetic" : "zeroshot-real");
    string? runsDirectory = parse.GetValue(runsOption);
    string models = parse.GetValue(modelsOption)!;

    // A cache is only valid for the options that produced it: refuse to mix runs.
    if (runsDirectory is not null)
    {
        Directory.CreateDirectory(runsDirectory);
        var ignored = new HashSet<Option> { outputOption, plotsOption, plotPrefixOption, runsOption, modelsOption };
        // "--name value" as typed, sorted: the same text the cache recorded before this program used System.CommandLine.
        string config = string.Join(" ", root.Options.Where(o => !ignored.Contains(o)).Select(o => parse.GetResult(o)).OfType<System.CommandLine.Parsing.OptionResult>()
            .Where(r => !r.Implicit).Select(r => $"{r.IdentifierToken?.Value[2..]} {string.Join(" ", r.Tokens.Select(t => t.Value))}".TrimEnd())
            .OrderBy(a => a, StringComparer.Ordinal).Select(a => "--" + a));
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
        var codes = List(languagesOption) ?? testbed.TargetLanguages.Select(t => t.Code).ToArray();
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
        var codes = List(languagesOption) ?? available;
        var missing = codes.Except(available).ToArray();
        if (missing.Length > 0) { Console.Error.WriteLine($"error: no raw text or XNLI dev set for {string.Join(", ", missing)}; available: {string.Join(", ", available)}"); return 2; }
        Console.WriteLine($"Data: {Path.GetFullPath(data!)}: raw/en ({englishLines} lines), glue_pools/MNLI ({trainExamples} pairs), targets {string.Join(", ", codes)} ({corpusLines} lines, {devExamples} XNLI dev pairs each)");
        englishText = Directory.GetFiles(Path.Combine(data!, "raw", "en"), "*.txt").Order(StringComparer.Ordinal).SelectMany(File.ReadLines)
            .Where(t => !string.IsNullOrWhiteSpace(t)).Take(englishLines).ToArray();
        inputs = CrossLingualInputs.FromDataFolder(data!, codes,
            new DataFolderInputOptions { MaxTrainExamples = trainExamples, MaxDevExamples = devExamples, MaxCorpusLines = corpusLines });
    }

    var targetCodes = inputs.Targets.Select(t => t.Code).ToArray();
    string BudgetLabel(long? budget) => budget switch
    {
        null => $"{relearnSteps} updates",
        >= 1_000_000 when budget % 1_000_000 == 0 => $"{budget / 1_000_000}M tokens",
        >= 1_000 when budget % 1_000 == 0 => $"{budget / 1_000}k tokens",
        _ => $"{budget} tokens",
    };
    string BudgetFile(long? budget) => BudgetLabel(budget).Replace(" tokens", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal);

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
        var ml = new MLContext(seed);
        var watch = Stopwatch.StartNew();
        // Where this seed's models live in the cache (one folder per seed when there are several).
        string? Cached(string file) => runsDirectory is null ? null : Path.Combine(runsDirectory, seeds.Length > 1 ? $"seed{seed}" : "", file);
        string Tag(string name) => seeds.Length > 1 ? $"{name} seed {seed}" : name;

        // Stage 1: pretraining on English, one model per K.
        var pretrained = new List<CrossLingualPipeline.Pretrained>();
        foreach (var (resetInterval, name) in pair)
        {
            Console.WriteLine($"\n== {Tag(name)}");
            var text = ml.Data.LoadFromEnumerable(englishText.Select(t => new TextRow { Text = t }).ToList());
            var lm = ModelCache.LoadOrFit<LanguageModelTransformer>(ml, Cached($"en-{name}.zip"), text.Schema, () =>
            {
                Console.WriteLine($"   training the English BPE vocabulary ({sourceVocabulary})");
                englishTokenizer ??= BpeVocabularyTrainer.Train(englishText, new BpeTrainerOptions { VocabSize = sourceVocabulary });
                return ml.Transforms.Text.ActiveForgettingPretrainer(new ActiveForgettingPretrainer.Options
                {
                    ModelPreset = preset, HiddenSize = hidden, NumLayers = layers, NumAttentionHeads = hidden is null ? null : Math.Max(1, hidden.Value / 16),
                    IntermediateSize = hidden is null ? null : 2 * hidden.Value, Tokenizer = englishTokenizer,
                    MaxSteps = steps, ResetInterval = resetInterval, BatchSize = 32, MaxSequenceLength = maxLength,
                    LearningRate = 2e-3, EmbeddingLearningRate = 2e-3, Seed = seed, Progress = new ConsoleProgress($"{Tag(name)} pretrain"),
                }).Fit(text);
            });
            Console.WriteLine($"\n   pretrained: {lm.History.Steps.Count} updates, {lm.History.Events.Count(e => e.Kind == HistoryNames.ResetEvent)} resets, final loss {lm.History.Steps[^1].Loss:F3} ({watch.Elapsed.TotalSeconds:F0} s)");
            lm.ExportHistory(Path.Combine(output, $"{name}-s{seed}-pretraining.csv"));
            pretrained.Add(new CrossLingualPipeline.Pretrained(name, lm));
        }

        // Stages 3, 2 and 4 and the evaluation for the pair: one target vocabulary per language for both models and every budget.
        var result = CrossLingualPipeline.Run(ml, pretrained, inputs, new CrossLingualPipeline.Options
        {
            Seed = seed, TargetVocabularySize = targetVocabulary, CurveDevExamples = curveExamples, CurvePoints = parse.GetValue(curvePointsOption), RelearningBudgets = budgets,
            TaskAdaptation = new TaskAdaptationSettings { Epochs = parse.GetValue(taskEpochsOption), BatchSize = 32, LearningRate = parse.GetValue(taskLrOption), MaxSequenceLength = maxLength, LogInterval = 1000 },
            Relearning = new RelearningSettings { MaxSteps = relearnSteps, BatchSize = 32, MaxSequenceLength = maxLength, LearningRate = 3e-3, LogInterval = 1000 },
            Hooks = new ModelCache(ml, step => Cached(step.Stage == CrossLingualPipeline.Stage.TaskAdaptation
                ? $"en-{step.Run}-task.zip" : $"{step.Language}-{step.Run}-{BudgetFile(step.Budget)}.zip"),
                step => $"{Tag(step.Run)} {(step.Stage == CrossLingualPipeline.Stage.TaskAdaptation ? "task adaptation" : $"relearn {step.Language} {BudgetLabel(step.Budget)}")}"),
        });
        foreach (var task in result.TaskAdaptations.Where(t => t.Source is not null))
            Console.WriteLine($"\n   {Tag(task.Run)}: {inputs.SourceLanguage} accuracy {task.Source!.Accuracy:P1} after task adaptation");
        foreach (var t in result.Targets)
        {
            curves.Add(new Curve(t.Run, seed, t.Budget, t.Language, t.Relearning));
            File.WriteAllText(Path.Combine(output, $"{t.Language}-{t.Run}-{BudgetFile(t.Budget)}-s{seed}-relearning.csv"), t.Relearning.ToCsv());
            Console.WriteLine($"   {Tag(t.Run)} {t.Language} ({BudgetLabel(t.Budget)}, {t.Relearning.Steps.Count} updates): zero-shot accuracy {t.Evaluation.Accuracy:P1}, macro-F1 {t.Evaluation.MacroF1:P1}");
        }
        foreach (var name in names)
            foreach (var budget in budgets)
            {
                var report = result.Report(name, budget);
                File.WriteAllText(Path.Combine(output, $"{name}-s{seed}-{BudgetFile(budget)}-report.csv"), report.ToCsv());
                File.WriteAllText(Path.Combine(output, $"{name}-s{seed}-{BudgetFile(budget)}-report.md"), report.ToMarkdown());
                cells.AddRange(report.Results.Select(r => new Cell(name, seed, budget, r.Language, r.Accuracy, r.MacroF1)));
            }
        Console.WriteLine($"   seed {seed}: {watch.Elapsed.TotalSeconds:F0} s");
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
    var curveCsv = new StringBuilder($"language,model,seed,budget_tokens,step,{HistoryNames.ZeroShotAccuracy}\n");
    foreach (var c in curves) foreach (var v in c.History.Validations)
        curveCsv.Append(inv, $"{c.Language},{c.Model},{c.Seed},{c.Budget},{v.Step},{v.Metrics[HistoryNames.ZeroShotAccuracy]:R}\n");
    var pngs = new List<string>();
    foreach (var budget in budgets)
    {
        var series = names.Select(n => (n, History: MeanHistory(curves.Where(c => c.Model == n && c.Budget == budget).Select(c => c.History).ToArray()))).ToArray();
        if (series.Length == 0 || series.Any(s => s.History.Steps.Count == 0)) continue;
        string what = $"{(synthetic ? "synthetic" : "XNLI")}, {BudgetLabel(budget)}, mean of {targetCodes.Length} languages{(seeds.Length > 1 ? $" × {seeds.Length} seeds" : "")}";
        string accuracyPng = Path.Combine(plots, $"{plotPrefix}-{BudgetFile(budget)}-accuracy.png"), lossPng = Path.Combine(plots, $"{plotPrefix}-{BudgetFile(budget)}-loss.png");
        Plots.Validation(series, HistoryNames.ZeroShotAccuracy, accuracyPng, $"Zero-shot accuracy while relearning ({what})");
        Plots.Loss(series, smooth: 5, lossPng, $"Relearning MLM loss ({what}; mean of 5 updates)");
        pngs.AddRange(new[] { accuracyPng, lossPng });
    }

    Console.WriteLine("\n\n" + markdown);
    Console.WriteLine($"Wall time: total {total.Elapsed.TotalSeconds:F0} s");
    File.WriteAllText(Path.Combine(output, "results.md"), markdown.ToString());
    File.WriteAllText(Path.Combine(output, "curves.csv"), curveCsv.ToString());
    Console.WriteLine($"Written: {Path.Combine(output, "results.md")}, {Path.Combine(output, "curves.csv")}, {string.Join(", ", pngs)}, per-model reports and histories (*.csv)");
    return 0;
}

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

internal sealed class TextRow
{
    public string Text { get; set; } = "";
}
