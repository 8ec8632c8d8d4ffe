using System.CommandLine;
using Microsoft.ML;
using MLNetForgetting.Adaptation;
using MLNetForgetting.Cli.Infrastructure;
using MLNetForgetting.Evaluation;
using MLNetForgetting.MLNet.Classification;
using MLNetForgetting.MLNet.CrossLingual;
using MLNetForgetting.MLNet.Pretraining;

namespace MLNetForgetting.Cli.Commands;

/// <summary><c>mlnf finetune</c>: stage 3, task adaptation of body and classifier on English sentence pairs (token embeddings frozen by default).</summary>
public static class FinetuneCommand
{
    /// <summary>One task-adaptation run (for <c>finetune</c> and the demo).</summary>
    /// <param name="Title">Label of the progress display.</param>
    /// <param name="Train">Labelled training pairs.</param>
    /// <param name="Validation">Held-out pairs with the same labels, or null.</param>
    /// <param name="Options">Library options; Progress, CancellationToken and ValidationData are set by <see cref="Execute"/>.</param>
    /// <param name="ModelPath">Where the classifier zip goes.</param>
    /// <param name="DeleteCheckpointOnSuccess">True for the default scratch checkpoint folder.</param>
    /// <param name="StopAfterSteps">Hidden test hook: cancel after this many updates.</param>
    internal sealed record Job(string Title, LabelledPairs Train, LabelledPairs? Validation, SentencePairClassificationTrainer.Options Options, string ModelPath,
        bool DeleteCheckpointOnSuccess = false, long StopAfterSteps = 0);

    /// <summary>Builds the command.</summary>
    public static Command Create(CliHost host)
    {
        var model = CliOptions.Input("--model", "The pretrained (or imported) language model zip; it is not changed", aliases: "-m");
        var train = CliOptions.Input("--input", "Labelled pairs: a TSV with premise/hypothesis/label columns (or text_a/text_b/label, or no header: columns 0, 1, 2)", aliases: "-i");
        var output = CliOptions.Output("--output", "The classifier zip to write", aliases: "-o");
        var validation = CliOptions.Input("--validation", "Held-out pairs in the same format, evaluated every --validate-every updates", required: false);
        var labels = new Option<string>("--labels") { Description = "The label set, comma-separated, in key order", DefaultValueFactory = _ => string.Join(",", XnliTsv.NliLabelNames), HelpName = "a,b,c" };
        var maxExamples = CliOptions.OptionalNumber<int>("--max-examples", "Use only the first N training pairs").AtLeast(1);
        var allParams = new Option<bool>("--all-params") { Description = "Fine-tune the token embeddings too (the usual setting; the default freezes them so relearned embeddings can be swapped in)" };
        var epochs = CliOptions.Number("--epochs", "Epochs over the training pairs", 10).AtLeast(1);
        var steps = CliOptions.OptionalNumber<long>("--steps", "At most this many updates (overrides --epochs when smaller)").AtLeast(1);
        var batch = CliOptions.Number("--batch", "Pairs per update", 32).AtLeast(1);
        var seq = CliOptions.Number("--seq", "Longest pair in tokens (longer pairs are truncated)", 128).AtLeast(8);
        var lr = CliOptions.Number("--lr", "Learning rate (the paper: 1e-5; tiny models want about 1e-3)", 1e-5, "rate").AtLeast(0);
        var validateEvery = CliOptions.Number("--validate-every", "Validate every N updates (0: at the end only)", 0L).AtLeast(0);
        var warmup = CliOptions.Number("--warmup", "Linear warm-up as a fraction of the updates (the paper: 0)", 0.0, "fraction").AtLeast(0);
        var decay = new Option<bool>("--linear-decay") { Description = "Decay the learning rate linearly to 0 after the warm-up (the paper: constant)" };
        var keepBest = new Option<bool>("--keep-best") { Description = "Keep the weights with the best validation accuracy (needs --validation and --checkpoint-dir)" };
        var seed = CliOptions.Seed();
        var device = CliOptions.Device();
        var checkpoints = new CheckpointOptions();

        var command = new Command("finetune", "Task adaptation: fine-tune the body of a language model and a new classification head on labelled sentence pairs (e.g. English MNLI), token embeddings frozen unless --all-params.")
        {
            model, train, output, validation, labels, maxExamples, allParams, epochs, steps, batch, seq, lr, validateEvery, warmup, decay, keepBest, seed, device,
        };
        foreach (var o in checkpoints.All) command.Options.Add(o);
        command.WithExamples(
            "mlnf finetune --model en-forget.zip --input ../shared/data/glue_pools/MNLI/train.tsv --output nli-forget.zip --epochs 2",
            "mlnf finetune --model en-std.zip --input mnli.tsv --validation ../shared/data/xnli/dev/dev.en.tsv --output nli.zip --all-params --lr 2e-5",
            "mlnf finetune --model en-std.zip --input mnli.tsv --output nli.zip --resume      # after Ctrl+C");

        return host.SetAction(command, (parse, context) =>
        {
            int runSeed = parse.GetValue(seed);
            var ml = context.CreateMLContext(runSeed);
            var labelNames = PairData.ParseLabels(parse.GetValue(labels)!, "--labels");
            var pairs = PairData.LoadPairs(parse.GetValue(train), "--input", labelNames, parse.GetValue(maxExamples));
            var held = parse.GetValue(validation) is { } v ? PairData.LoadPairs(v, "--validation", labelNames) : null;
            string outputPath = PathChecks.OutputFile(parse.GetValue(output), "--output");
            var (checkpointPath, scratch) = checkpoints.Resolve(parse, outputPath);
            var lm = ModelFiles.Load<LanguageModelTransformer>(ml, parse.GetValue(model), "--model");

            bool freeze = !parse.GetValue(allParams);
            bool best = parse.GetValue(keepBest);
            if (best && held is null) throw new CliUsageException("--keep-best needs --validation");
            if (best && scratch) throw new CliUsageException("--keep-best needs --checkpoint-dir (the best weights are kept there)");
            if (parse.GetValue(warmup) >= 1) throw new CliUsageException("--warmup is a fraction of the updates and must be below 1");
            var options = new SentencePairClassificationTrainer.Options
            {
                LanguageModel = lm, Seed = runSeed, Device = CliOptions.DeviceValue(parse, device),
                Settings = new TaskAdaptationSettings
                {
                    Epochs = parse.GetValue(epochs), MaxSteps = parse.GetValue(steps), BatchSize = parse.GetValue(batch), MaxSequenceLength = parse.GetValue(seq),
                    LearningRate = parse.GetValue(lr), WarmupFraction = parse.GetValue(warmup), LinearDecay = parse.GetValue(decay), KeepBestCheckpoint = best,
                    FreezeTokenEmbeddings = freeze, ValidationInterval = held is null ? 0 : parse.GetValue(validateEvery) is > 0 and var every ? every : long.MaxValue, // MaxValue: at the last update only
                    CheckpointDirectory = checkpointPath, CheckpointInterval = parse.GetValue(checkpoints.Every), Resume = parse.GetValue(checkpoints.Resume),
                },
            };
            context.WriteLine($"Task adaptation on {pairs.Examples.Count:N0} pairs from {pairs.Source} ({labelNames.Count} labels, token embeddings {(freeze ? "frozen" : "trained")}, seed {runSeed})");
            var classifier = Execute(context, ml, new Job("finetune", pairs, held, options, outputPath, scratch, parse.GetValue(checkpoints.StopAfter)));

            var h = classifier.History;
            context.WriteLine($"Model: {outputPath}");
            string validated = h.Validations.LastOrDefault() is { } last && last.Metrics.TryGetValue("accuracy", out var acc) ? $", validation accuracy {acc:P1}" : "";
            context.WriteLine($"{h.Steps.Count} updates, final loss {(h.Steps.Count == 0 ? double.NaN : h.Steps[^1].Loss):F4}{validated}");
            return ExitCodes.Success;
        });
    }

    /// <summary>Fits, saves the zip atomically and returns the classifier.</summary>
    internal static SentencePairClassifierTransformer Execute(CliContext context, MLContext ml, Job job)
    {
        using var run = new TrainingRun(context, job.StopAfterSteps);
        var options = job.Options;
        options.Sentence1ColumnName = PairData.Sentence1;
        options.Sentence2ColumnName = PairData.Sentence2;
        options.LabelColumnName = PairData.Label;
        options.Progress = run.Progress;
        options.CancellationToken = run.CancellationToken;
        options.ValidationData = job.Validation is null ? null : PairData.ToDataView(ml, job.Validation);
        var data = PairData.ToDataView(ml, job.Train);
        var estimator = ml.MulticlassClassification.Trainers.SentencePairClassification(options);
        var settings = options.Settings;
        var model = run.Execute(job.Title, settings.CheckpointDirectory, settings.Resume, () => estimator.Fit(data));
        PretrainRun.SaveModel(ml, model, data.Schema, job.ModelPath);
        if (job.DeleteCheckpointOnSuccess && settings.CheckpointDirectory is { } scratch) TrainingRun.DeleteCheckpointFolder(scratch);
        return model;
    }
}
