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
using MLNetForgetting.Training;
using System.Text;

namespace MLNetForgetting.Cli.Demo;

/// <summary>Paths inside the dataset folder (shared-data layout) and the runs every stage loops over.</summary>
internal static class DemoData
{
    public static readonly string[] Runs = { "standard", "forgetting" };

    public static string Dev(DemoContext c, string language) => Path.Combine(c.Require(DemoArtifacts.Dataset), "xnli", "dev", $"dev.{language}.tsv");

    public static string Mnli(DemoContext c) => Path.Combine(c.Require(DemoArtifacts.Dataset), "glue_pools", "MNLI", "train.tsv");

    public static LanguageModelTransformer Pretrained(DemoContext c, string run) => ModelFiles.Load<LanguageModelTransformer>(c.ML, c.Require(DemoArtifacts.Model(run)), "--model");
}

/// <summary>
/// Stages 3, 2 and 4 and the evaluation for both pretrained models through the library's one
/// orchestrator (<see cref="CrossLingualPipeline"/>): task adaptation on English NLI (token embeddings
/// frozen), relearning each target language with the zero-shot adaptation curve, assembly, and the
/// per-language comparison of standard with forgetting. The demo's part is only the display and the files.
/// </summary>
public sealed class CrossLingualTransferStage : DemoStage
{
    /// <inheritdoc/>
    public override string Name => "finetune + relearn + assemble + evaluate";

    /// <inheritdoc/>
    public override void Run(DemoContext context)
    {
        var size = context.Size;
        var inputs = CrossLingualInputs.FromDataFolder(context.Require(DemoArtifacts.Dataset), context.Languages,
            new DataFolderInputOptions { MaxCorpusLines = size.CorpusLines, MaxTrainExamples = size.NliTrain, MaxDevExamples = size.NliDev });
        var options = new CrossLingualPipeline.Options
        {
            Seed = context.Seed, TargetVocabularySize = size.VocabularySize, CurveDevExamples = size.CurveExamples,
            TaskAdaptation = new TaskAdaptationSettings { Epochs = size.TaskEpochs, BatchSize = 32, LearningRate = 1e-3, MaxSequenceLength = size.MaxSequenceLength, LogInterval = 1000 },
            Relearning = new RelearningSettings
            {
                MaxSteps = size.RelearnSteps, BatchSize = 32, MaxSequenceLength = size.MaxSequenceLength, LearningRate = 3e-3,
                EvaluationInterval = size.CurveInterval, LogInterval = 1000,
            },
            CancellationToken = context.Cli.CancellationToken,
            Hooks = new DemoFiles(context),
        };
        var result = CrossLingualPipeline.Run(context.ML, DemoData.Runs.Select(run => new CrossLingualPipeline.Pretrained(run, DemoData.Pretrained(context, run))).ToList(), inputs, options);

        foreach (var task in result.TaskAdaptations)
            context.Summary.Add($"finetune ({task.Run})",
                $"{task.Classifier.History.Steps.Count} updates on {inputs.SourceTrain.Count} English pairs; English dev accuracy {EvaluateCommand.Percent(task.Source!.Accuracy)}% (chance 33.3%)",
                $"finetune-{task.Run}.zip");
        foreach (var target in result.Targets)
        {
            var curve = target.Relearning.Validations;
            long tokens = size.RelearnSteps * 32L * size.MaxSequenceLength; // an upper bound: updates × batch × longest sequence
            context.Summary.Add($"relearn {target.Language} ({target.Run})",
                $"{target.Relearning.Steps.Count} updates (≤ {tokens:N0} tokens); zero-shot accuracy {EvaluateCommand.Percent(curve[0].Metrics[HistoryNames.ZeroShotAccuracy])}% → {EvaluateCommand.Percent(curve[^1].Metrics[HistoryNames.ZeroShotAccuracy])}%",
                $"relearn-{target.Language}-{target.Run}.zip, relearn-{target.Language}-{target.Run}.history.csv");
        }
        foreach (string run in DemoData.Runs) context.Reports[run] = result.Report(run);

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
        context.Summary.Add("assemble + evaluate", $"mean zero-shot accuracy over {string.Join(", ", context.Languages)}: standard {table.Rows[^1][1]}%, forgetting {table.Rows[^1][2]}%", "assembled-*.zip, evaluation.md, evaluation.csv");
    }

    /// <summary>Each fit under the tool's progress display and Ctrl+C handling; every model saved atomically into the output folder.</summary>
    private sealed class DemoFiles(DemoContext context) : CrossLingualPipeline.Hooks
    {
        public override T Fit<T>(CrossLingualPipeline.Step step, Func<IProgress<TrainingProgress>?, CancellationToken, T> fit)
        {
            bool task = step.Stage == CrossLingualPipeline.Stage.TaskAdaptation;
            using var run = new TrainingRun(context.Cli);
            var model = run.Execute(task ? $"finetune ({step.Run})" : $"relearn {step.Language} ({step.Run})", null, false, () => fit(run.Progress, run.CancellationToken));
            string zip = context.File(task ? $"finetune-{step.Run}.zip" : $"relearn-{step.Language}-{step.Run}.zip");
            PretrainRun.SaveModel(context.ML, model, step.InputSchema, zip);
            if (model is LanguageModelTransformer relearned)
            {
                string history = context.File($"relearn-{step.Language}-{step.Run}.history.csv");
                relearned.ExportHistory(history);
                context.Artifacts[DemoArtifacts.Relearned(step.Run, step.Language)] = zip;
                context.Artifacts[DemoArtifacts.Curve(step.Run, step.Language)] = history;
            }
            return model;
        }

        public override void Assembled(CrossLingualPipeline.Step step, SentencePairClassifierTransformer classifier) =>
            PretrainRun.SaveModel(context.ML, classifier, step.InputSchema, context.File($"assembled-{step.Language}-{step.Run}.zip"));
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
        HistoryPlot.Save(series, png, PlotKind.Validation, metric: HistoryNames.ZeroShotAccuracy,
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
