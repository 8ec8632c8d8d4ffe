using MLNetForgetting.Adaptation;
using MLNetForgetting.Cli.Commands;
using MLNetForgetting.Cli.Infrastructure;
using MLNetForgetting.Cli.Reporting;
using MLNetForgetting.Evaluation;
using MLNetForgetting.MLNet.Classification;
using MLNetForgetting.MLNet.CrossLingual;
using MLNetForgetting.MLNet.FewShot;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Modeling.Adapters;
using MLNetForgetting.Prompts;
using MLNetForgetting.SelfTraining;
using System.Text;

namespace MLNetForgetting.Cli.Demo;

/// <summary>Paths inside the dataset folder (shared-data layout) and the runs every stage loops over.</summary>
internal static class DemoData
{
    public static readonly string[] Runs = { "standard", "forgetting" };

    public static string Dev(DemoContext c, string language) => Path.Combine(c.Require(DemoArtifacts.Dataset), "xnli", "dev", $"dev.{language}.tsv");

    public static string Mnli(DemoContext c) => Path.Combine(c.Require(DemoArtifacts.Dataset), "glue_pools", "MNLI", "train.tsv");

    public static string Raw(DemoContext c, string language) => Path.Combine(c.Require(DemoArtifacts.Dataset), "raw", language);

    public static LanguageModelTransformer Pretrained(DemoContext c, string run) => ModelFiles.Load<LanguageModelTransformer>(c.ML, c.Require(DemoArtifacts.Model(run)), "--model");

    /// <summary>Scores <paramref name="model"/> on the first dev pairs of <paramref name="language"/> into the run's report.</summary>
    public static LanguageResult Evaluate(DemoContext c, string run, EvaluateCommand.Classifier model, string language)
    {
        if (!c.Reports.TryGetValue(run, out var report)) c.Reports[run] = report = new ClassificationReport(model.LabelNames);
        var rows = EvaluateCommand.LoadRows(Dev(c, language), "--data", model, c.Size.NliDev);
        return EvaluateCommand.Score(c.ML, model, rows, language, report);
    }
}

/// <summary>Stage 3: task adaptation on English NLI (token embeddings frozen), then English dev accuracy.</summary>
public sealed class FinetuneStage(string run) : DemoStage
{
    /// <inheritdoc/>
    public override string Name => $"finetune ({run})";

    /// <inheritdoc/>
    public override void Run(DemoContext context)
    {
        var size = context.Size;
        var train = PairData.LoadPairs(DemoData.Mnli(context), "--data", maxExamples: size.NliTrain);
        var options = new SentencePairClassificationTrainer.Options
        {
            LanguageModel = DemoData.Pretrained(context, run), Seed = context.Seed + 1,
            Settings = new TaskAdaptationSettings { Epochs = size.TaskEpochs, BatchSize = 32, LearningRate = 1e-3, MaxSequenceLength = size.MaxSequenceLength, LogInterval = 1000 },
        };
        string path = context.File($"finetune-{run}.zip");
        var classifier = FinetuneCommand.Execute(context.Cli, context.ML, new FinetuneCommand.Job(Name, train, null, options, path));
        var model = new EvaluateCommand.Classifier(Path.GetFileName(path), classifier, classifier.LabelNames);
        context.Classifiers[(run, "en")] = model;
        var english = DemoData.Evaluate(context, run, model, "en");
        context.Summary.Add(Name, $"{classifier.History.Steps.Count} updates on {train.Examples.Count} English pairs; English dev accuracy {EvaluateCommand.Percent(english.Accuracy)}% (chance 33.3%)", Path.GetFileName(path));
    }
}

/// <summary>Stage 2 for each target language and run, with the zero-shot adaptation curve (the task model with the embeddings being trained spliced in).</summary>
public sealed class RelearnStage : DemoStage
{
    /// <summary>Metric name of the curve in the relearning histories.</summary>
    public const string CurveMetric = "zero_shot_accuracy";

    /// <inheritdoc/>
    public override string Name => "relearn";

    /// <inheritdoc/>
    public override void Run(DemoContext context)
    {
        var size = context.Size;
        foreach (string code in context.Languages)
        {
            var text = TextInput.Open(context.ML, DemoData.Raw(context, code), "--data", maxRows: size.CorpusLines);
            // One vocabulary per language for both runs, so they differ only in the pretrained body.
            var tokenizer = EmbeddingRelearning.TrainVocabulary(() => DataViewLines(context, text), size.VocabularySize);
            var curveDev = PairData.LoadPairs(DemoData.Dev(context, code), "--data", maxExamples: size.CurveExamples).Examples;
            foreach (string run in DemoData.Runs)
            {
                var task = (SentencePairClassifierTransformer)context.Classifiers[(run, "en")].Model;
                var options = new EmbeddingRelearner.Options
                {
                    LanguageModel = DemoData.Pretrained(context, run), Tokenizer = tokenizer, Seed = context.Seed + 2,
                    Settings = new RelearningSettings
                    {
                        MaxSteps = size.RelearnSteps, BatchSize = 32, MaxSequenceLength = size.MaxSequenceLength, LearningRate = 3e-3,
                        EvaluationInterval = size.CurveInterval, LogInterval = 1000,
                    },
                    Evaluate = (model, _) =>
                    {
                        using var spliced = ModelAssembly.Assemble(task.Model, model);
                        return new Dictionary<string, double> { [CurveMetric] = TaskAdaptation.Accuracy(spliced, tokenizer, curveDev) };
                    },
                };
                string zip = context.File($"relearn-{code}-{run}.zip"), history = context.File($"relearn-{code}-{run}.history.csv");
                var relearned = RelearnCommand.Execute(context.Cli, context.ML, new RelearnCommand.Job($"relearn {code} ({run})", text, options, zip, history));
                context.Artifacts[DemoArtifacts.Relearned(run, code)] = zip;
                context.Artifacts[DemoArtifacts.Curve(run, code)] = history;
                var curve = relearned.History.Validations;
                long tokens = size.RelearnSteps * 32L * size.MaxSequenceLength; // an upper bound: updates × batch × longest sequence
                context.Summary.Add($"relearn {code} ({run})",
                    $"{relearned.History.Steps.Count} updates (≤ {tokens:N0} tokens); zero-shot accuracy {EvaluateCommand.Percent(curve[0].Metrics[CurveMetric])}% → {EvaluateCommand.Percent(curve[^1].Metrics[CurveMetric])}%",
                    $"{Path.GetFileName(zip)}, {Path.GetFileName(history)}");
            }
        }
    }

    private static IEnumerable<string?> DataViewLines(DemoContext context, TextSource text) =>
        MLNetForgetting.MLNet.DataViewText.Read(text.Data, text.Column);
}

/// <summary>Stage 4 and evaluation: assemble each target language's classifier and compare standard with forgetting per language.</summary>
public sealed class AssembleEvaluateStage : DemoStage
{
    /// <inheritdoc/>
    public override string Name => "assemble + evaluate";

    /// <inheritdoc/>
    public override void Run(DemoContext context)
    {
        foreach (string code in context.Languages)
            foreach (string run in DemoData.Runs)
            {
                var task = (SentencePairClassifierTransformer)context.Classifiers[(run, "en")].Model;
                var relearned = ModelFiles.Load<LanguageModelTransformer>(context.ML, context.Require(DemoArtifacts.Relearned(run, code)), "--relearned");
                string path = context.File($"assembled-{code}-{run}.zip");
                var assembled = AssembleCommand.Assemble(context.ML, task, relearned, code, path);
                var model = new EvaluateCommand.Classifier(Path.GetFileName(path), assembled, assembled.LabelNames);
                context.Classifiers[(run, code)] = model;
                DemoData.Evaluate(context, run, model, code);
            }

        var table = new ReportTable("Zero-shot NLI per language (English: after task adaptation; targets: assembled)",
            "language", "accuracy % standard", "accuracy % forgetting", "macro-F1 % standard", "macro-F1 % forgetting");
        var (standard, forgetting) = (context.Reports["standard"], context.Reports["forgetting"]);
        foreach (var s in standard.Results)
        {
            var f = forgetting[s.Language];
            table.Add(s.Language, EvaluateCommand.Percent(s.Accuracy), EvaluateCommand.Percent(f.Accuracy), EvaluateCommand.Percent(s.MacroF1), EvaluateCommand.Percent(f.MacroF1));
        }
        double Mean(ClassificationReport r, Func<LanguageResult, double> metric) => context.Languages.Average(c => metric(r[c]));
        table.Add($"mean of {context.Languages.Count} targets", EvaluateCommand.Percent(Mean(standard, r => r.Accuracy)), EvaluateCommand.Percent(Mean(forgetting, r => r.Accuracy)),
            EvaluateCommand.Percent(Mean(standard, r => r.MacroF1)), EvaluateCommand.Percent(Mean(forgetting, r => r.MacroF1)));
        context.Cli.Console.Write(table.ToSpectre());
        context.Tables.Add(table);
        var markdown = new StringBuilder(table.ToMarkdown());
        foreach (var (run, report) in context.Reports) markdown.Append("\n### ").Append(run).Append("\n\n").Append(report.ToMarkdown());
        File.WriteAllText(context.File("evaluation.md"), markdown.ToString());
        File.WriteAllText(context.File("evaluation.csv"), table.ToCsv());
        context.Summary.Add(Name, $"mean zero-shot accuracy over {string.Join(", ", context.Languages)}: standard {table.Rows[^1][1]}%, forgetting {table.Rows[^1][2]}%", "assembled-*.zip, evaluation.md, evaluation.csv");
    }
}

/// <summary>Draws the adaptation curves: zero-shot accuracy against relearning updates, standard vs forgetting per language.</summary>
public sealed class CurvePlotStage : DemoStage
{
    /// <inheritdoc/>
    public override string Name => "plot curves";

    /// <inheritdoc/>
    public override void Run(DemoContext context)
    {
        var series = context.Languages.SelectMany(code => DemoData.Runs.Select(run =>
            new HistoryPlot.Series($"{code} {run}", HistoryFiles.Load(context.ML, context.Require(DemoArtifacts.Curve(run, code)))))).ToList();
        string png = context.File("adaptation-curves.png");
        HistoryPlot.Save(series, png, PlotKind.Validation, metric: RelearnStage.CurveMetric,
            title: "Adaptation curves: zero-shot accuracy vs relearning updates (standard vs forgetting)");
        context.Summary.Add(Name, "zero-shot accuracy vs relearning updates, one line per language and run", Path.GetFileName(png));
    }
}

/// <summary>A short LiST run per pretrained model: few-shot English NLI with the MNLI prompt, adapters on the frozen backbone, self-training on unlabelled pairs.</summary>
public sealed class ListStage : DemoStage
{
    /// <inheritdoc/>
    public override string Name => "LiST";

    /// <summary>Printed under the LiST rows: why their accuracy sits near chance at the demo's size.</summary>
    public static string SizeNote(DemoSize size) =>
        $"LiST at demo size is expected near chance (33.3%): 3-class NLI from {size.ListShots} labelled pairs per class on a tiny backbone that never " +
        "saw the label words Yes/No/Maybe in pretraining (at the default size even task adaptation on all 3,000 pairs reaches only about 54%, docs/cli.md). " +
        "On a task whose answer the backbone knows, prompt tuning and the baselines do learn: docs/list.md, Positive controls.";

    /// <inheritdoc/>
    public override void Run(DemoContext context)
    {
        var size = context.Size;
        // K per class from the English training file (after the pairs task adaptation used), the next pairs unlabelled.
        var pool = PairData.LoadPairs(DemoData.Mnli(context), "--data").Examples.Skip(size.NliTrain).ToList();
        var labels = XnliTsv.NliLabelNames;
        var labelled = pool.GroupBy(e => e.Label).OrderBy(g => g.Key).SelectMany(g => g.Take(size.ListShots))
            .Select(e => new FewShotExample([e.Premise, e.Hypothesis], labels[e.Label])).ToList();
        var unlabelled = pool.Skip(labels.Count * size.ListShots * 4).Take(size.ListUnlabelled)
            .Select(e => new FewShotExample([e.Premise, e.Hypothesis], null)).ToList();
        if (labelled.Count < labels.Count) throw new InvalidDataException($"the demo's MNLI file has too few pairs after the first {size.NliTrain} for a {size.ListShots}-shot LiST run");
        foreach (string run in DemoData.Runs)
        {
            var options = new PromptAdapterSelfTrainer.Options
            {
                LanguageModel = DemoData.Pretrained(context, run), Task = "MNLI", Seed = context.Seed + 3,
                Settings = new SelfTrainingSettings
                {
                    Adapters = new AdapterOptions { BottleneckSize = 16 }, TeacherEpochs = 10, Rounds = size.ListRounds, PhaseAUpdates = 20, PhaseBEpochs = 2,
                    TeacherLearningRate = 1e-3, StudentLearningRate = 1e-3,
                    // At this size dropout in the frozen backbone swamps what its hidden state at <mask> says about
                    // the input, and the adapters cannot fit even the labelled pairs (docs/list.md, positive controls).
                    BackboneDropout = false,
                },
            };
            if (context.DataDirectory is null)
            {
                // The MNLI template drops the premise's last character (LM-BFF's final period); synthetic
                // sentences have no punctuation, so it would cut the last letter of the object noun.
                options.Template = "*cls**sent_0*?*mask*,*+sentl_1**sep+*";
                options.TemplateMaxLength = LiSTTasks.Mnli.Template.MaxLength;
                options.LabelWords = LiSTTasks.Mnli.Verbalizer.Labels.Zip(LiSTTasks.Mnli.Verbalizer.Words).ToDictionary(p => p.First, p => p.Second);
            }
            string path = context.File($"list-{run}.zip");
            var list = ListCommand.Execute(context.Cli, context.ML, new ListCommand.Job($"LiST ({run})", labelled, unlabelled, labels.Order(StringComparer.Ordinal).ToArray(), options, path));
            var model = new EvaluateCommand.Classifier(Path.GetFileName(path), list, list.LabelNames);
            var result = EvaluateCommand.Score(context.ML, model, EvaluateCommand.LoadRows(DemoData.Dev(context, "en"), "--data", model, size.NliDev), "en", new ClassificationReport(list.LabelNames));
            context.Summary.Add($"LiST ({run})", $"{labelled.Count} labelled + {unlabelled.Count} unlabelled English pairs, {list.ParameterReport.Trainable:N0} trainable parameters; English dev accuracy {EvaluateCommand.Percent(result.Accuracy)}% (chance 33.3%)",
                Path.GetFileName(path));
        }
        context.Cli.Console.Write(new Spectre.Console.Text(SizeNote(size) + "\n"));
        context.Summary.Add(Name, SizeNote(size), "");
    }
}
