using System.CommandLine;
using System.Globalization;
using Microsoft.ML;
using MLNetForgetting.Adaptation;
using MLNetForgetting.Cli.Infrastructure;
using MLNetForgetting.MLNet.CrossLingual;
using MLNetForgetting.MLNet.Pretraining;

namespace MLNetForgetting.Cli.Commands;

/// <summary><c>mlnf relearn</c>: stage 2, new vocabulary and token embeddings for a target language with the body frozen.</summary>
public static class RelearnCommand
{
    /// <summary>One relearning run as the CLI performs it (for <c>relearn</c> and the demo).</summary>
    /// <param name="Title">Label of the progress display.</param>
    /// <param name="Input">Target-language text.</param>
    /// <param name="Options">Library options; Progress, CancellationToken and the input column are set by <see cref="Execute"/>.</param>
    /// <param name="ModelPath">Where the relearned zip goes.</param>
    /// <param name="HistoryPath">Where the adaptation curve goes (.csv or .json).</param>
    /// <param name="DeleteCheckpointOnSuccess">True for the default scratch checkpoint folder.</param>
    /// <param name="StopAfterSteps">Hidden test hook: cancel after this many updates.</param>
    public sealed record Job(string Title, TextSource Input, EmbeddingRelearner.Options Options, string ModelPath, string HistoryPath,
        bool DeleteCheckpointOnSuccess = false, long StopAfterSteps = 0);

    /// <summary>Builds the command.</summary>
    public static Command Create(CliHost host)
    {
        var model = CliOptions.Input("--model", "The pretrained language model zip (from pretrain or import); it is not changed", aliases: "-m");
        var input = CliOptions.Input("--input", "Target-language text: a .txt file (one row per line), a folder of *.txt files, or a .tsv file with a header (see --column)", aliases: "-i");
        var column = new Option<string?>("--column") { Description = "Text column of a TSV input (default 'Text' for .tsv files)", HelpName = "name" };
        var maxRows = CliOptions.Number("--max-rows", "Use only the first N rows of the input (0: all)", 0L).AtLeast(0);
        var output = CliOptions.Output("--output", "The relearned language model zip to write", aliases: "-o");
        var history = CliOptions.Output("--history", "Adaptation curve to write: .csv or .json (default: <output>.history.csv)", required: false);
        var language = new Option<string?>("--language") { Description = "Language code of the input (checked; shown in the summary)", HelpName = "code" };
        var tokens = CliOptions.OptionalNumber<long>("--tokens", "Token budget: stop when the batches have read this many tokens, repeats counted (not the paper's 5M, which is a corpus size: see --corpus-tokens)").AtLeast(1);
        var corpusTokens = CliOptions.OptionalNumber<long>("--corpus-tokens", "Corpus cap: relearn on the first N tokens of the input only, for as many updates as --steps/--tokens say (the paper: 5M, trained for many epochs)").AtLeast(3);
        var validation = CliOptions.Input("--validation", "Held-out target-language text (same format as --input) for the masked-LM loss every --validate-every updates", required: false);
        var validateEvery = CliOptions.Number("--validate-every", "Evaluate the held-out loss every N updates (0: never)", 0L).AtLeast(0);
        var keepBest = new Option<bool>("--keep-best") { Description = "Keep the weights with the lowest held-out loss (needs --validation and --validate-every)" };
        var outputBias = new Option<string>("--output-bias") { Description = "The MLM output bias: keep (the pretrained one, frozen; the authors' choice), zero (zeroed, frozen) or train (zeroed, trained)", DefaultValueFactory = _ => "keep" }
            .OneOf(["keep", "zero", "train"]);
        var steps = CliOptions.OptionalNumber<long>("--steps", "At most this many updates (with --tokens the smaller wins; default 1000 when neither is given)").AtLeast(1);
        var vocab = CliOptions.Number("--vocab", "Size of the target-language BPE vocabulary trained on the input", 8000).AtLeast(300, "5 special tokens + 256 bytes + merges");
        var batch = CliOptions.Number("--batch", "Sequences per update", 32).AtLeast(1);
        var seq = CliOptions.Number("--seq", "Longest sequence in tokens (also capped by the model's)", 128).AtLeast(8);
        var lr = CliOptions.Number("--lr", "Peak learning rate of the token embeddings (the paper: 7e-4)", 7e-4, "rate").AtLeast(0);
        var seed = CliOptions.Seed();
        var device = CliOptions.Device();
        var checkpoints = new CheckpointOptions();

        var command = new Command("relearn", "Relearn the token embeddings of a pretrained model for a new language: train a vocabulary on the target text, give the model fresh embeddings and train only them (body frozen) by masked-LM.")
        {
            model, input, column, maxRows, output, history, language, tokens, corpusTokens, steps, validation, validateEvery, keepBest, outputBias, vocab, batch, seq, lr, seed, device,
        };
        foreach (var o in checkpoints.All) command.Options.Add(o);
        command.WithExamples(
            "mlnf relearn --model en-forget.zip --input ../shared/data/raw/de --language de --output de-forget.zip --corpus-tokens 5000000 --steps 20000",
            "mlnf relearn --model en-std.zip --input de.txt --validation de-heldout.txt --validate-every 500 --keep-best --checkpoint-dir ck --output de-std.zip --steps 5000",
            "mlnf relearn --model en-std.zip --input sw.txt --output sw-std.zip --steps 2000 --vocab 4000 --checkpoint-every 500",
            "mlnf relearn --model en-std.zip --input sw.txt --output sw-std.zip --steps 2000 --vocab 4000 --resume      # after Ctrl+C");

        return host.SetAction(command, (parse, context) =>
        {
            int runSeed = parse.GetValue(seed);
            var ml = context.CreateMLContext(runSeed);
            string? code = parse.GetValue(language) is { } l ? LanguageCodes.Check(l, "--language") : null;
            var text = TextInput.Open(ml, parse.GetValue(input), "--input", parse.GetValue(column), parse.GetValue(maxRows));
            string outputPath = PathChecks.OutputFile(parse.GetValue(output), "--output");
            string historyPath = PathChecks.OutputFile(parse.GetValue(history) ?? PretrainCommand.DefaultSibling(outputPath, ".history.csv"), "--history");
            var (checkpointPath, scratch) = checkpoints.Resolve(parse, outputPath);
            TextSource? held = parse.GetValue(validation) is { } v ? TextInput.Open(ml, v, "--validation", parse.GetValue(column)) : null;
            if (held is not null && held.Column != text.Column)
                throw new CliUsageException($"--validation must have the same text column as --input ('{text.Column}'), found '{held.Column}'");
            bool best = parse.GetValue(keepBest);
            if (best && (held is null || parse.GetValue(validateEvery) == 0)) throw new CliUsageException("--keep-best needs --validation and --validate-every");
            if (best && scratch) throw new CliUsageException("--keep-best needs --checkpoint-dir (the best weights are kept there)");
            var lm = ModelFiles.Load<LanguageModelTransformer>(ml, parse.GetValue(model), "--model");

            long? budget = parse.GetValue(tokens);
            var options = new EmbeddingRelearner.Options
            {
                LanguageModel = lm, VocabularySize = parse.GetValue(vocab), Seed = runSeed, Device = CliOptions.DeviceValue(parse, device),
                ValidationData = held?.Data,
                Settings = new RelearningSettings
                {
                    CorpusTokenCap = parse.GetValue(corpusTokens), EvaluationInterval = held is null ? 0 : parse.GetValue(validateEvery), KeepBestCheckpoint = best,
                    OutputBias = parse.GetValue(outputBias) switch { "zero" => RelearnedOutputBias.ZeroFrozen, "train" => RelearnedOutputBias.ZeroTrained, _ => RelearnedOutputBias.KeepFrozen },
                    MaxTokens = budget, MaxSteps = parse.GetValue(steps) ?? (budget is null ? 1000 : null),
                    BatchSize = parse.GetValue(batch), MaxSequenceLength = parse.GetValue(seq), LearningRate = parse.GetValue(lr),
                    CheckpointDirectory = checkpointPath, CheckpointInterval = parse.GetValue(checkpoints.Every), Resume = parse.GetValue(checkpoints.Resume),
                },
            };
            string title = $"relearn{(code is null ? "" : " " + code)}";
            string cap = options.Settings.CorpusTokenCap is { } c ? $", corpus capped at {c:N0} tokens" : "";
            context.WriteLine($"Relearning token embeddings ({(budget is { } b ? $"{b:N0} tokens" : $"{options.Settings.MaxSteps} updates")}{cap}, vocabulary {options.VocabularySize}, seed {runSeed}) on {text.Description}");
            var relearned = Execute(context, ml, new Job(title, text, options, outputPath, historyPath, scratch, parse.GetValue(checkpoints.StopAfter)));

            var h = relearned.History;
            int tail = Math.Max(1, h.Steps.Count / 10);
            string loss = h.Steps.Count == 0 ? "n/a" : h.Steps.TakeLast(tail).Average(s => s.Loss).ToString("F4", CultureInfo.InvariantCulture);
            context.WriteLine($"Model: {outputPath}");
            context.WriteLine($"History: {historyPath}");
            context.WriteLine($"{h.Steps.Count} updates, vocabulary {relearned.Tokenizer.VocabSize}, mean loss of the last {tail} updates {loss}");
            return ExitCodes.Success;
        });
    }

    /// <summary>Fits, saves the zip atomically, exports the history and returns the relearned model.</summary>
    public static LanguageModelTransformer Execute(CliContext context, MLContext ml, Job job)
    {
        using var run = new TrainingRun(context, job.StopAfterSteps);
        var options = job.Options;
        options.InputColumnName = job.Input.Column;
        options.Progress = run.Progress;
        options.CancellationToken = run.CancellationToken;
        var estimator = ml.Transforms.Text.EmbeddingRelearner(options); // validates the options before the display starts
        var settings = options.Settings;
        var model = run.Execute(job.Title, settings.CheckpointDirectory, settings.Resume, () => estimator.Fit(job.Input.Data));
        PretrainRun.SaveModel(ml, model, job.Input.Data.Schema, job.ModelPath);
        model.ExportHistory(job.HistoryPath);
        if (job.DeleteCheckpointOnSuccess && settings.CheckpointDirectory is { } scratch) TrainingRun.DeleteCheckpointFolder(scratch);
        return model;
    }
}
