using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetForgetting.MLNet.Classification;
using MLNetForgetting.MLNet.FewShot;
using MLNetForgetting.MLNet.Persistence;
using MLNetForgetting.MLNet.Pretraining;

namespace MLNetForgetting.Cli.Infrastructure;

/// <summary>
/// Loads the ML.NET zips the tool writes and finds the component a command needs in them, so a wrong
/// file fails with what it holds ("--model 'x.zip' holds a sentence-pair classifier; expected a language model").
/// </summary>
public static class ModelFiles
{
    /// <summary>Loads <paramref name="path"/> (given as <paramref name="option"/>) and returns its <typeparamref name="T"/>.</summary>
    public static T Load<T>(MLContext ml, string? path, string option) where T : class, ITransformer
    {
        var model = LoadAny(ml, path, option, out _);
        return Find<T>(model) ?? throw new CliUsageException($"{option} '{path}' holds {Describe(model)}; expected {Describe(typeof(T))}");
    }

    /// <summary>Loads any model zip; a file that is not one is a bad argument naming the option.</summary>
    public static ITransformer LoadAny(MLContext ml, string? path, string option, out DataViewSchema inputSchema)
    {
        string file = PathChecks.InputFile(path, option);
        try
        {
            return ml.Model.LoadChecked(file, out inputSchema); // our ModelFormatException, not ML.NET's reflection wrapper
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            throw new CliUsageException($"{option} '{path}' is not a model zip mlnf can load ({ErrorReporter.OneLine(e.Message)})", e);
        }
    }

    /// <summary>The last <typeparamref name="T"/> in <paramref name="model"/> (itself, or inside a transformer chain).</summary>
    public static T? Find<T>(ITransformer model) where T : class, ITransformer => model switch
    {
        T t => t,
        TransformerChain<ITransformer> chain => chain.Select(Find<T>).LastOrDefault(t => t is not null),
        _ => null,
    };

    /// <summary>What a loaded model is, for messages.</summary>
    public static string Describe(ITransformer model) =>
        Find<PromptAdapterTransformer>(model) is not null ? Describe(typeof(PromptAdapterTransformer))
        : Find<SentencePairClassifierTransformer>(model) is not null ? Describe(typeof(SentencePairClassifierTransformer))
        : Find<LanguageModelTransformer>(model) is not null ? Describe(typeof(LanguageModelTransformer))
        : $"a {model.GetType().Name}, not an mlnf model";

    private static string Describe(Type type) =>
        type == typeof(LanguageModelTransformer) ? "a language model (from pretrain, relearn or import)"
        : type == typeof(SentencePairClassifierTransformer) ? "a sentence-pair classifier (from finetune or assemble)"
        : type == typeof(PromptAdapterTransformer) ? "a LiST few-shot classifier (from list)"
        : type.Name;
}
