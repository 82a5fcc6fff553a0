using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Text;

namespace PSReplica.Commands.Hosting;

/// <summary>Writes the parameters that decided a plan as a Get-SyncPlan command line of literal values, and reads such a
/// line back into parameter values without running anything: a reviewed plan carries its selection as text a person can
/// read (and paste), and the apply step plans again with exactly that selection.</summary>
internal static class PlanCommandLine
{
    public const string CommandName = "Get-SyncPlan";

    /// <summary>One line: <c>Get-SyncPlan -Name:'value' -Switch -List:'a','b' ...</c>, in the order given.</summary>
    public static string Format(IEnumerable<KeyValuePair<string, object?>> parameters)
    {
        var line = new StringBuilder(CommandName);
        foreach ((string name, object? value) in parameters)
        {
            object? plain = value is PSObject wrapped ? wrapped.BaseObject : value;
            if (plain is null)
            {
                continue;
            }

            if (plain is SwitchParameter or bool)
            {
                if (LanguagePrimitives.IsTrue(plain))
                {
                    line.Append(" -").Append(name);
                }

                continue;
            }

            line.Append(" -").Append(name).Append(':');
            if (plain is not string && plain is IEnumerable list)
            {
                bool first = true;
                foreach (object? element in list)
                {
                    line.Append(first ? string.Empty : ",").Append(Literal(element));
                    first = false;
                }

                if (first)
                {
                    line.Append("@()");
                }
            }
            else
            {
                line.Append(Literal(plain));
            }
        }

        return line.ToString();
    }

    /// <summary>The parameters of a line written by <see cref="Format"/>: strings, numbers, switches and lists of them.
    /// Anything else (a variable, a sub-expression, another command) is refused: the line is data, never code.</summary>
    public static Dictionary<string, object?> Parse(string line)
    {
        ScriptBlockAst script = Parser.ParseInput(line ?? string.Empty, out _, out ParseError[] errors);
        if (errors.Length > 0)
        {
            throw Invalid($"its command line does not parse: {errors[0].Message}");
        }

        if (script.EndBlock?.Statements is not { Count: 1 } statements
            || statements[0] is not PipelineAst { PipelineElements: { Count: 1 } elements }
            || elements[0] is not CommandAst command
            || command.GetCommandName() is not { } name
            || !string.Equals(name, CommandName, StringComparison.OrdinalIgnoreCase))
        {
            throw Invalid($"its command line must be one {CommandName} command.");
        }

        var parameters = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        ReadParameters(command, parameters);
        return parameters;
    }

    private static void ReadParameters(CommandAst command, Dictionary<string, object?> parameters)
    {
        var elements = command.CommandElements;
        for (int index = 1; index < elements.Count; index++)
        {
            if (elements[index] is not CommandParameterAst parameter)
            {
                throw Invalid($"'{elements[index].Extent.Text}' is not a named parameter.");
            }

            if (parameter.Argument is not null)
            {
                parameters[parameter.ParameterName] = Value(parameter.Argument);
            }
            else
            {
                parameters[parameter.ParameterName] = new SwitchParameter(true);
            }
        }
    }

    private static object? Value(ExpressionAst argument) => argument switch
    {
        StringConstantExpressionAst text => text.Value,
        ConstantExpressionAst constant => constant.Value,
        ArrayLiteralAst list => Values(list.Elements),
        ArrayExpressionAst { SubExpression.Statements.Count: 0 } => Array.Empty<object>(),
        _ => throw Invalid($"'{argument.Extent.Text}' is not a literal value."),
    };

    private static object?[] Values(System.Collections.ObjectModel.ReadOnlyCollection<ExpressionAst> elements)
    {
        var values = new object?[elements.Count];
        for (int index = 0; index < values.Length; index++)
        {
            values[index] = Value(elements[index]);
        }

        return values;
    }

    private static string Literal(object? value) => value switch
    {
        null => "''",
        sbyte or byte or short or ushort or int or uint or long or ulong or double or float or decimal =>
            Convert.ToString(value, CultureInfo.InvariantCulture)!,
        DateTime time => Quote(time.ToUniversalTime().ToString("o", CultureInfo.InvariantCulture)),
        DateTimeOffset time => Quote(time.ToString("o", CultureInfo.InvariantCulture)),
        TimeSpan span => Quote(span.ToString("c", CultureInfo.InvariantCulture)),
        IFormattable formattable => Quote(formattable.ToString(null, CultureInfo.InvariantCulture)),
        _ => Quote(value.ToString() ?? string.Empty),
    };

    private static string Quote(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static SyncException Invalid(string problem) =>
        new(ErrorIds.PlanInvalid, SyncErrorKind.InvalidArgument, "The plan cannot be applied: " + problem, null);
}
