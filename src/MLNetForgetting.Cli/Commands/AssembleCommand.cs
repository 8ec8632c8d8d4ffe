using System.CommandLine;
using MLNetForgetting.Cli.Infrastructure;
using MLNetForgetting.MLNet.Classification;
using MLNetForgetting.MLNet.Pretraining;

namespace MLNetForgetting.Cli.Commands;

/// <summary><c>mlnf assemble</c>: stage 4, the task-adapted body and classifier with a target language's relearned embeddings.</summary>
public static class AssembleCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliHost host)
    {
        var classifier = CliOptions.Input("--classifier", "The task-adapted classifier zip (from finetune)", aliases: "-c");
        var relearned = CliOptions.Input("--relearned", "The relearned language model zip of the target language (from relearn, on the same pretrained model)", aliases: "-r");
        var output = CliOptions.Output("--output", "The assembled classifier zip to write (zero-shot classifier for the target language)", aliases: "-o");
        var language = new Option<string?>("--language") { Description = "Language code of the relearned model (checked; recorded in the model's description)", HelpName = "code" };
        var allowUnrecordedBody = new Option<bool>("--allow-unrecorded-body") { Description = "Assemble even when the classifier zip does not record the pretrained body it was fine-tuned from (zips written before it was recorded); a recorded body that differs is still refused" };

        var command = new Command("assemble", "Assemble a zero-shot classifier for a new language: the body and classification head of a task-adapted classifier with the token embeddings and vocabulary of a relearned model.")
        {
            classifier, relearned, output, language, allowUnrecordedBody,
        };
        command.WithExamples(
            "mlnf assemble --classifier nli-forget.zip --relearned de-forget.zip --language de --output nli-de.zip",
            "mlnf evaluate --model nli-de.zip --test de=../shared/data/xnli/dev/dev.de.tsv --output eval      # then");

        return host.SetAction(command, (parse, context) =>
        {
            var ml = context.CreateMLContext(seed: 0);
            string? code = parse.GetValue(language) is { } l ? LanguageCodes.Check(l, "--language") : null;
            string outputPath = PathChecks.OutputFile(parse.GetValue(output), "--output");
            var task = ModelFiles.Load<SentencePairClassifierTransformer>(ml, parse.GetValue(classifier), "--classifier");
            var lm = ModelFiles.Load<LanguageModelTransformer>(ml, parse.GetValue(relearned), "--relearned");
            var assembled = Assemble(ml, task, lm, code, outputPath, parse.GetValue(allowUnrecordedBody));
            context.WriteLine($"Model: {outputPath} ({assembled.Description}; vocabulary {assembled.Tokenizer.VocabSize}, labels {string.Join(", ", assembled.LabelNames)})");
            return ExitCodes.Success;
        });
    }

    /// <summary>Assembles and saves atomically (for <c>assemble</c> and the demo).</summary>
    public static SentencePairClassifierTransformer Assemble(Microsoft.ML.MLContext ml, SentencePairClassifierTransformer task, LanguageModelTransformer relearned, string? language, string outputPath,
        bool allowUnrecordedBody = false)
    {
        // A body of another size cannot take these embeddings; say so instead of a tensor shape error.
        if (task.Model.Config.HiddenSize != relearned.Model.Config.HiddenSize || task.Model.Config.NumHiddenLayers != relearned.Model.Config.NumHiddenLayers)
            throw new CliUsageException($"--relearned has hidden size {relearned.Model.Config.HiddenSize} and {relearned.Model.Config.NumHiddenLayers} layers; the classifier has {task.Model.Config.HiddenSize} and {task.Model.Config.NumHiddenLayers}: relearn from the model the classifier was fine-tuned from");
        SentencePairClassifierTransformer assembled;
        try { assembled = task.Assemble(relearned, ml, language, allowUnrecordedBody); }
        catch (BodyMismatchException e) { throw new CliUsageException($"--relearned and --classifier do not fit together: {e.Message}", e); }
        PretrainRun.SaveModel(ml, assembled, PairData.ToDataView(ml, [], task.LabelNames).Schema, outputPath);
        return assembled;
    }
}
