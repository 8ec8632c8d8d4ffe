using MLNetForgetting.Training;
using System.CommandLine;
using MLNetForgetting.Cli.Infrastructure;
using MLNetForgetting.MLNet.Pretraining;

namespace MLNetForgetting.Cli.Commands;

/// <summary><c>mlnf pretrain</c>: standard or active-forgetting pretraining of a masked language model into an ML.NET zip.</summary>
public static class PretrainCommand
{
    private static readonly string[] Presets = { "Tiny", "Small", "Base" };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliHost host)
    {
        var input = CliOptions.Input("--input", "Training text: a .txt file (one row per line), a folder of *.txt files, or a .tsv file with a header (see --column)", aliases: "-i");
        var column = new Option<string?>("--column") { Description = "Text column of a TSV input (makes the input a TSV whatever its extension; default 'Text' for .tsv files)", HelpName = "name" };
        var maxRows = CliOptions.Number("--max-rows", "Use only the first N rows of the input (0: all)", 0L).AtLeast(0);
        var output = CliOptions.Output("--output", "The model zip to write (loads with mlContext.Model.Load)", aliases: "-o");
        var history = CliOptions.Output("--history", "Training history to write: .csv or .json (default: <output>.history.csv)", required: false);
        var k = CliOptions.Number("--k", "Active forgetting: reset the token embeddings every K updates (0 = standard)", 1000L, "K").AtLeast(0, "0 is standard pretraining");
        var standard = new Option<bool>("--standard") { Description = "Standard pretraining without resets (same as --k 0)" };
        var preset = new Option<string>("--preset") { Description = "Model size", DefaultValueFactory = _ => "Small" }.OneOf(Presets);
        var from = CliOptions.Input("--from", "Continue pretraining this language model zip (from pretrain, relearn or import): its weights, tokenizer and size are kept; with --k its embeddings are reset every K updates", required: false);
        var headOnly = new Option<bool>("--head-only") { Description = "With --from: warm up the MLM head only (body and token embeddings frozen), for an imported encoder without one; needs --standard or --k 0" };
        var hidden = CliOptions.OptionalNumber<int>("--hidden", "Hidden size (overrides the preset's)", "D").AtLeast(8);
        var layers = CliOptions.OptionalNumber<int>("--layers", "Number of transformer layers (overrides the preset's)", "N").AtLeast(1);
        var heads = CliOptions.OptionalNumber<int>("--heads", "Attention heads; must divide --hidden (default: the preset's, or hidden/32 with --hidden)", "N").AtLeast(1);
        var ffn = CliOptions.OptionalNumber<int>("--ffn", "Feed-forward width (default: the preset's, or 4 x hidden with --hidden)", "D").AtLeast(1);
        var steps = CliOptions.OptionalNumber<long>("--steps", "Total updates").AtLeast(1);
        var epochs = CliOptions.OptionalNumber<int>("--epochs", "Epochs over the input (default 1 when neither --steps nor --tokens is given)").AtLeast(1);
        var tokens = CliOptions.OptionalNumber<long>("--tokens", "Train on about this many tokens").AtLeast(1);
        var batch = CliOptions.Number("--batch", "Sequences per update", 32).AtLeast(1);
        var seq = CliOptions.Number("--seq", "Longest sequence in tokens (longer text is truncated)", 128).AtLeast(8);
        var lr = CliOptions.Number("--lr", "Peak learning rate of the body", 7e-4, "rate").AtLeast(0);
        var embLr = CliOptions.OptionalNumber<double>("--emb-lr", "Peak learning rate of the token embeddings (default: --lr)", "rate").AtLeast(0);
        var vocab = CliOptions.Number("--vocab", "Size of the byte-level BPE vocabulary trained on the input (it holds the label words of the built-in LiST tasks as single tokens)", 8000).AtLeast(ActiveForgettingPretrainer.MinimumVocabularySize, "5 special tokens + 256 bytes + the LiST label words + merges");
        var seed = CliOptions.Seed();
        var device = CliOptions.Device();
        var checkpoints = new CheckpointOptions();
        var validation = CliOptions.Input("--validation", "Held-out text in the same format as --input, for validation loss and accuracy", required: false);
        var validateEvery = CliOptions.Number("--validate-every", "Validate every N updates (0: at the end only)", 0L).AtLeast(0);
        var keepBest = new Option<bool>("--keep-best") { Description = "Keep the weights with the lowest validation loss (needs --validation)" };
        var precision = new Option<string>("--matmul-precision") { Description = "Precision of the matrix products: float32, or bf16 (mixed precision; faster on CPUs with AVX-512 BF16 or AMX, slower elsewhere)", DefaultValueFactory = _ => "float32" }
            .OneOf(["float32", "bf16"]);

        var command = new Command("pretrain", "Pretrain a RoBERTa-style masked language model, standard or with active forgetting, and save it as an ML.NET zip with its training history.")
        {
            input, column, maxRows, output, history, k, standard, from, headOnly, preset, hidden, layers, heads, ffn, steps, epochs, tokens, batch, seq, lr, embLr, vocab, seed,
            device, validation, validateEvery, keepBest, precision,
        };
        foreach (var o in checkpoints.All) command.Options.Add(o);
        command.AtMostOneOf(k, standard);
        command.AtMostOneOf(steps, epochs, tokens);
        command.WithExamples(
            "mlnf pretrain --input ../shared/data/raw/en --output en-forget.zip --k 1000 --preset Small --steps 125000",
            "mlnf pretrain --input corpus.txt --output en-std.zip --standard --preset Tiny --epochs 2 --history std.json",
            "mlnf pretrain --input sentences.tsv --column sentence --output lm.zip --steps 5000 --checkpoint-every 500",
            "mlnf pretrain --input corpus.txt --output lm.zip --steps 5000 --resume      # after Ctrl+C",
            "mlnf pretrain --from minilm.zip --head-only --standard --input ../shared/data/raw/en --output minilm-head.zip --steps 300 --lr 1e-3",
            "mlnf pretrain --from minilm.zip --input ../shared/data/raw/en --output minilm-forget.zip --k 500 --steps 5000 --lr 1e-4");

        return host.SetAction(command, (parse, context) =>
        {
            // Paths first, inputs before outputs: a typo or an unwritable folder fails before a corpus is
            // read or a vocabulary trained, and a missing input leaves nothing behind.
            int runSeed = parse.GetValue(seed);
            var ml = context.CreateMLContext(runSeed);
            string? tsvColumn = parse.GetValue(column);
            var train = TextInput.Open(ml, parse.GetValue(input), "--input", tsvColumn, parse.GetValue(maxRows));
            TextSource? held = parse.GetValue(validation) is { } v ? TextInput.Open(ml, v, "--validation", tsvColumn ?? (train.Column == TextInput.DefaultColumn ? null : train.Column)) : null;
            string outputPath = PathChecks.OutputFile(parse.GetValue(output), "--output");
            string historyPath = PathChecks.OutputFile(parse.GetValue(history) ?? DefaultSibling(outputPath, ".history.csv"), "--history");
            var (checkpointPath, scratch) = checkpoints.Resolve(parse, outputPath);
            if (held is not null && held.Column != train.Column)
                throw new CliUsageException($"--validation must have the same text column as --input ('{train.Column}'), found '{held.Column}'");
            if (parse.GetValue(keepBest) && held is null) throw new CliUsageException("--keep-best needs --validation");

            LanguageModelTransformer? initial = null;
            if (parse.GetValue(from) is { } start)
            {
                // The starting model fixes size and vocabulary: refuse the options that would be ignored.
                var fixedBy = new Option[] { preset, hidden, layers, heads, ffn, vocab }.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
                if (fixedBy.Count > 0) throw new CliUsageException($"--from keeps the model's size and tokenizer; drop {string.Join(", ", fixedBy)}");
                initial = ModelFiles.Load<LanguageModelTransformer>(ml, start, "--from");
            }
            long resetInterval = parse.GetValue(standard) ? 0 : parse.GetValue(k);
            if (parse.GetValue(headOnly) && initial is null) throw new CliUsageException("--head-only warms up the MLM head of an existing model: give --from");
            if (parse.GetValue(headOnly) && resetInterval != 0) throw new CliUsageException("--head-only keeps the token embeddings frozen, so there is nothing to reset: add --standard (or --k 0)");
            double learningRate = parse.GetValue(lr);
            int? width = parse.GetValue(hidden);
            // A width without heads or feed-forward width gets the usual proportions (head size 32, FFN 4D)
            // rather than the preset's, which belong to the preset's width.
            int? headCount = parse.GetValue(heads) ?? (width is int w ? Math.Max(1, w / 32) : null);
            if (width is int wd && headCount is int hc && wd % hc != 0)
                throw new CliUsageException($"--heads {hc} must divide --hidden {wd}");
            var options = new ActiveForgettingPretrainer.Options
            {
                InputColumnName = train.Column,
                InitialModel = initial,
                MlmHeadOnly = parse.GetValue(headOnly),
                ModelPreset = CliOptions.Canonical(parse.GetValue(preset)!, Presets),
                HiddenSize = width,
                NumLayers = parse.GetValue(layers),
                NumAttentionHeads = headCount,
                IntermediateSize = parse.GetValue(ffn) ?? (width is int f ? 4 * f : null),
                ResetInterval = resetInterval,
                MaxSteps = parse.GetValue(steps) ?? 0,
                TokenBudget = parse.GetValue(tokens) ?? 0,
                MaxEpochs = parse.GetValue(epochs) ?? 1,
                BatchSize = parse.GetValue(batch),
                MaxSequenceLength = parse.GetValue(seq),
                LearningRate = learningRate,
                EmbeddingLearningRate = parse.GetValue(embLr) ?? learningRate,
                VocabularySize = parse.GetValue(vocab),
                Seed = runSeed,
                Device = CliOptions.DeviceValue(parse, device),
                CheckpointDirectory = checkpointPath,
                CheckpointInterval = parse.GetValue(checkpoints.Every),
                Resume = parse.GetValue(checkpoints.Resume),
                ValidationData = held?.Data,
                ValidationInterval = parse.GetValue(validateEvery),
                KeepBestCheckpoint = parse.GetValue(keepBest),
                MatmulPrecision = CliOptions.Canonical(parse.GetValue(precision)!, ["float32", "bf16"]) == "bf16" ? MLNetForgetting.Runtime.MatmulPrecision.BFloat16 : MLNetForgetting.Runtime.MatmulPrecision.Float32,
            };
            string kind = parse.GetValue(headOnly) ? "MLM head warm-up" : resetInterval == 0 ? "standard" : $"forgetting K={resetInterval}";
            string what = initial is null ? $"preset {options.ModelPreset}" : $"continued from {parse.GetValue(from)}";
            context.WriteLine($"Pretraining ({kind}, {what}, seed {runSeed}) on {train.Description}");
            var job = new PretrainJob(kind, train, options, outputPath, historyPath,
                DeleteCheckpointOnSuccess: scratch, StopAfterSteps: parse.GetValue(checkpoints.StopAfter));
            var model = PretrainRun.Execute(context, ml, job);

            var h = model.History;
            int tail = Math.Max(1, h.Steps.Count / 10);
            string finalLoss = h.Steps.Count == 0 ? "n/a" : h.Steps.TakeLast(tail).Average(s => s.Loss).ToString("F4", System.Globalization.CultureInfo.InvariantCulture);
            context.WriteLine($"Model: {outputPath}");
            context.WriteLine($"History: {historyPath}");
            context.WriteLine($"{h.Steps.Count} updates, {h.Events.Count(e => e.Kind == HistoryNames.ResetEvent)} embedding resets, mean loss of the last {tail} updates {finalLoss}");
            return ExitCodes.Success;
        });
    }

    /// <summary>"out/model.zip" → "out/model" + <paramref name="suffix"/>.</summary>
    internal static string DefaultSibling(string path, string suffix) =>
        Path.Combine(Path.GetDirectoryName(path)!, Path.GetFileNameWithoutExtension(path) + suffix);
}
