BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    . (Join-Path $PSScriptRoot 'Support/CmdletTestSupport.ps1')

    function Get-TerminatingError([scriptblock] $Script) {
        try { & $Script; $null } catch { $_ }
    }
}

Describe 'New-SyncFilter' {
    Context 'building a filter' {
        It 'returns one PSReplica.SyncFilter with an exclude rule per -Exclude pattern' {
            $result = @(New-SyncFilter -Exclude '*.bak', 'tmp/')
            $result.Count | Should -Be 1
            $result[0] | Should -BeOfType ([PSReplica.SyncFilter])
            $result[0].Rules.Count | Should -Be 2
            $result[0].Rules[0].Type | Should -Be 'Exclude'
            $result[0].Rules[0].Pattern | Should -Be '*.bak'
            $result[0].Rules[1].Pattern | Should -Be 'tmp/'
            $result[0].Rules[1].DirectoryOnly | Should -BeTrue
        }

        It 'takes -Exclude by position' {
            (New-SyncFilter '*.log').Rules[0].Text | Should -Be '- *.log'
        }

        It 'puts -Include rules before -Exclude rules, so includes win' {
            $f = New-SyncFilter -Exclude '*.bak' -Include 'keep.bak'
            @($f.Rules.Type) | Should -Be @('Include', 'Exclude')
            @($f.Rules.Line) | Should -Be @(1, 2)
            $f.Test('keep.bak', $false) | Should -BeTrue
            $f.Test('other.bak', $false) | Should -BeFalse
            $f.Test('other.txt', $false) | Should -BeTrue
        }

        It 'with no patterns builds an empty filter that includes everything' {
            $f = New-SyncFilter
            $f.Rules.Count | Should -Be 0
            $f.Test('anything/at/all', $false) | Should -BeTrue
            $f.Explain('anything', $false) | Should -BeNullOrEmpty
        }

        It 'marks anchored rules' {
            $rule = (New-SyncFilter -Exclude '/build').Rules[0]
            $rule.Anchored | Should -BeTrue
            (New-SyncFilter -Exclude 'build').Rules[0].Anchored | Should -BeFalse
        }
    }

    Context 'ToString and Text in rsync syntax' {
        It 'writes an exclude rule as "- pattern"' {
            (New-SyncFilter -Exclude '*.bak').ToString().TrimEnd("`n") | Should -Be '- *.bak'
        }

        It 'writes include rules as "+ pattern", one rule per line, in order' {
            $text = (New-SyncFilter -Exclude '*.bak', 'cache/' -Include 'keep.bak').ToString()
            $text.TrimEnd("`n").Split("`n") | Should -Be @('+ keep.bak', '- *.bak', '- cache/')
        }

        It 'gives each rule its own Text' {
            @((New-SyncFilter -Exclude 'a' -Include 'b').Rules.Text) | Should -Be @('+ b', '- a')
        }
    }

    Context 'Test(path, isDirectory)' {
        It 'matches <Pattern> against <Path> (directory: <IsDirectory>) as <Expected>' -ForEach @(
            @{ Pattern = '*.bak'; Path = 'x.bak'; IsDirectory = $false; Expected = $false }
            @{ Pattern = '*.bak'; Path = 'deep/er/x.bak'; IsDirectory = $false; Expected = $false }
            @{ Pattern = '*.bak'; Path = 'x.bakx'; IsDirectory = $false; Expected = $true }
            @{ Pattern = 'file?.txt'; Path = 'file1.txt'; IsDirectory = $false; Expected = $false }
            @{ Pattern = 'file?.txt'; Path = 'file10.txt'; IsDirectory = $false; Expected = $true }
            @{ Pattern = 'log[0-9]'; Path = 'log7'; IsDirectory = $false; Expected = $false }
            @{ Pattern = 'log[0-9]'; Path = 'logx'; IsDirectory = $false; Expected = $true }
            @{ Pattern = 'log[!0-9]'; Path = 'logx'; IsDirectory = $false; Expected = $false }
            @{ Pattern = 'a/*/z.txt'; Path = 'a/b/z.txt'; IsDirectory = $false; Expected = $false }
            @{ Pattern = 'a/*/z.txt'; Path = 'a/b/c/z.txt'; IsDirectory = $false; Expected = $true }
            @{ Pattern = 'a/**/z.txt'; Path = 'a/b/c/z.txt'; IsDirectory = $false; Expected = $false }
            @{ Pattern = 'a/**/z.txt'; Path = 'q/b/z.txt'; IsDirectory = $false; Expected = $true }
            @{ Pattern = 'a/**'; Path = 'a/b/c'; IsDirectory = $false; Expected = $false }
            @{ Pattern = '/top.txt'; Path = 'top.txt'; IsDirectory = $false; Expected = $false }
            @{ Pattern = '/top.txt'; Path = 'sub/top.txt'; IsDirectory = $false; Expected = $true }
            @{ Pattern = 'top.txt'; Path = 'sub/top.txt'; IsDirectory = $false; Expected = $false }
            @{ Pattern = 'cache/'; Path = 'cache'; IsDirectory = $true; Expected = $false }
            @{ Pattern = 'cache/'; Path = 'cache'; IsDirectory = $false; Expected = $true }
            @{ Pattern = 'cache/'; Path = 'x/cache'; IsDirectory = $true; Expected = $false }
            @{ Pattern = 'sub/inner.txt'; Path = 'top/sub/inner.txt'; IsDirectory = $false; Expected = $false }
            @{ Pattern = 'sub/inner.txt'; Path = 'top/xsub/inner.txt'; IsDirectory = $false; Expected = $true }
            @{ Pattern = 'dir/***'; Path = 'dir'; IsDirectory = $true; Expected = $false }
            @{ Pattern = 'dir/***'; Path = 'dir/a/b'; IsDirectory = $false; Expected = $false }
            @{ Pattern = 'dir/***'; Path = 'dirx/a'; IsDirectory = $false; Expected = $true }
        ) {
            (New-SyncFilter -Exclude $Pattern).Test($Path, $IsDirectory) | Should -Be $Expected
        }

        It 'lets the first matching rule decide' {
            $f = New-SyncFilter -Include 'important.log' -Exclude '*.log'
            $f.Test('important.log', $false) | Should -BeTrue
            $f.Test('debug.log', $false) | Should -BeFalse
        }
    }

    Context 'Explain(path, isDirectory)' {
        It 'returns the deciding rule with its position' {
            $f = New-SyncFilter -Exclude '*.tmp', '*.bak' -Include 'keep.bak'
            $rule = $f.Explain('dir/x.bak', $false)
            $rule | Should -BeOfType ([PSReplica.FilterRule])
            $rule.Pattern | Should -Be '*.bak'
            $rule.Type | Should -Be 'Exclude'
            $rule.Line | Should -Be 3
            $f.Explain('keep.bak', $false).Type | Should -Be 'Include'
            $f.Explain('keep.bak', $false).Line | Should -Be 1
        }

        It 'returns nothing for a path no rule matches' {
            (New-SyncFilter -Exclude '*.bak').Explain('a.txt', $false) | Should -BeNullOrEmpty
        }

        It 'honours isDirectory for directory-only rules' {
            $f = New-SyncFilter -Exclude 'build/'
            $f.Explain('build', $true).Pattern | Should -Be 'build/'
            $f.Explain('build', $false) | Should -BeNullOrEmpty
        }

        It 'can be called with a path alone, as the design documents Explain(path)' {
            $f = New-SyncFilter -Exclude '*.bak'
            $f.Explain('x.bak').Pattern | Should -Be '*.bak'
        }
    }

    Context '-InputObject chaining' {
        It 'appends the new rules after the input filter''s rules' {
            $f = New-SyncFilter -Exclude 'a' | New-SyncFilter -Exclude 'b' | New-SyncFilter -Include 'c'
            @($f.Rules.Text) | Should -Be @('- a', '- b', '+ c')
        }

        It 'keeps the input''s rules deciding first' {
            $f = New-SyncFilter -Exclude '*.txt' | New-SyncFilter -Include 'keep.txt'
            $f.Test('keep.txt', $false) | Should -BeFalse
            $g = New-SyncFilter -Include 'keep.txt' | New-SyncFilter -Exclude '*.txt'
            $g.Test('keep.txt', $false) | Should -BeTrue
            $g.Test('other.txt', $false) | Should -BeFalse
        }

        It 'accepts -InputObject by name and does not change the input filter' {
            $first = New-SyncFilter -Exclude 'a'
            $second = New-SyncFilter -InputObject $first -Exclude 'b'
            @($second.Rules.Pattern) | Should -Be @('a', 'b')
            @($first.Rules.Pattern) | Should -Be @('a')
        }

        It 'emits one filter per piped input filter' {
            $out = @((New-SyncFilter -Exclude 'a'), (New-SyncFilter -Exclude 'b')) | New-SyncFilter -Exclude 'z'
            $out.Count | Should -Be 2
            @($out[0].Rules.Pattern) | Should -Be @('a', 'z')
            @($out[1].Rules.Pattern) | Should -Be @('b', 'z')
        }
    }

    Context '-Rule: rsync''s rule language' {
        It 'parses <Rule> as a <Type> rule with pattern <Pattern>' -ForEach @(
            @{ Rule = '- *.o'; Type = 'Exclude'; Pattern = '*.o' }
            @{ Rule = 'include keep/***'; Type = 'Include'; Pattern = 'keep/***' }
            @{ Rule = 'H *.log'; Type = 'Hide'; Pattern = '*.log' }
            @{ Rule = 'show x'; Type = 'Show'; Pattern = 'x' }
            @{ Rule = 'P /local/'; Type = 'Protect'; Pattern = '/local/' }
            @{ Rule = 'risk y'; Type = 'Risk'; Pattern = 'y' }
            @{ Rule = ': .rsync-filter'; Type = 'DirMerge'; Pattern = '.rsync-filter' }
            @{ Rule = '-_z'; Type = 'Exclude'; Pattern = 'z' }
        ) {
            $rule = (New-SyncFilter -Rule $Rule).Rules[0]
            $rule.Type | Should -Be $Type
            $rule.Pattern | Should -Be $Pattern
            $rule.Line | Should -Be 1
        }

        It 'keeps modifiers and writes them back in rsync syntax' {
            $f = New-SyncFilter -Rule '-/ /etc/passwd', '+! */', 'exclude,p *.tmp', ':n- .excl'
            @($f.Rules.Text) | Should -Be @('-/ /etc/passwd', '+! */', '-p *.tmp', ':n- .excl')
            $f.Rules[2].Modifiers | Should -Be 'Perishable'
            $g = New-SyncFilter -Rule ($f.ToString().TrimEnd("`n").Split("`n"))
            $g.ToString() | Should -Be $f.ToString()
        }

        It 'tells the sender side from the receiver side' {
            $f = New-SyncFilter -Rule 'H *.log', 'P *.bak'
            $f.Test('a.log', $false) | Should -BeFalse
            $f.Test('a.log', $false, [PSReplica.FilterSide]::Receiver) | Should -BeTrue
            $f.Test('a.bak', $false) | Should -BeTrue
            $f.Test('a.bak', $false, [PSReplica.FilterSide]::Receiver) | Should -BeFalse
        }

        It 'lets a clear rule drop everything before it, the input filter''s rules too' {
            $f = New-SyncFilter -Exclude 'a' | New-SyncFilter -Rule '- b', '!', '- c'
            @($f.Rules.Text) | Should -Be @('- c')
        }

        It 'puts -Rule rules after -Include and -Exclude, numbering inline rules in that order' {
            $f = New-SyncFilter -Include 'i' -Exclude 'e' -Rule '- r'
            @($f.Rules.Text) | Should -Be @('+ i', '- e', '- r')
            @($f.Rules.Line) | Should -Be @(1, 2, 3)
        }

        It 'rejects <Rule> with a terminating InvalidFilterRule error that names the rule and what is wrong' -ForEach @(
            @{ Rule = 'excludefoo'; Problem = 'does not start with a rule name' }
            @{ Rule = '-e foo'; Problem = "'e' at position 2" }
            @{ Rule = '- '; Problem = 'no pattern' }
            @{ Rule = '! x'; Problem = 'no modifiers and no pattern' }
            @{ Rule = '- [abc'; Problem = "closing ']'" }
        ) {
            $out = $null
            $err = Get-TerminatingError { $out = New-SyncFilter -Rule '- fine', $Rule -ErrorAction SilentlyContinue }
            $err.FullyQualifiedErrorId | Should -BeLike 'InvalidFilterRule,*'
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.TargetObject | Should -Be $Rule
            $err.Exception.Message.Contains("'$Rule' (rule 2 given inline)") | Should -BeTrue -Because $err.Exception.Message
            $err.Exception.Message.Contains($Problem) | Should -BeTrue -Because $err.Exception.Message
            $out | Should -BeNullOrEmpty
        }
    }

    Context 'rule files' {
        It '-Path reads a merge file once, with its file and line on each rule' {
            $file = Join-Path $TestDrive 'rules.txt'
            Set-Content -LiteralPath $file -Value '# comment', '+ keep.o', '', '- *.o'
            $f = New-SyncFilter -Path $file
            @($f.Rules.Text) | Should -Be @('+ keep.o', '- *.o')
            $f.Rules[1].Source | Should -Be $file
            $f.Rules[1].Line | Should -Be 4
            $f.Test('keep.o', $false) | Should -BeTrue
            $f.Test('x.o', $false) | Should -BeFalse
        }

        It '-Path reports a malformed line with InvalidFilterRule naming the file and line' {
            $file = Join-Path $TestDrive 'bad.rules'
            Set-Content -LiteralPath $file -Value '- ok', 'oops'
            $err = Get-TerminatingError { New-SyncFilter -Path $file }
            $err.FullyQualifiedErrorId | Should -BeLike 'InvalidFilterRule,*'
            $err.Exception.Message | Should -BeLike "*'oops' ($file, line 2)*"
        }

        It 'a missing file is FilterFileUnreadable' {
            $err = Get-TerminatingError { New-SyncFilter -ExcludeFrom (Join-Path $TestDrive 'nope.txt') }
            $err.FullyQualifiedErrorId | Should -BeLike 'FilterFileUnreadable,*'
        }

        It '-ExcludeFrom and -IncludeFrom read one pattern a line with prefixes, ! and comments' {
            $ex = Join-Path $TestDrive 'ex.txt'; $in = Join-Path $TestDrive 'in.txt'
            Set-Content -LiteralPath $ex -Value '; comment', '*.tmp', '+ keep.tmp', '#x'
            Set-Content -LiteralPath $in -Value 'important.*', '- junk'
            $f = New-SyncFilter -ExcludeFrom $ex -IncludeFrom $in
            @($f.Rules.Text) | Should -Be @('+ important.*', '- junk', '- *.tmp', '+ keep.tmp')
            $g = New-SyncFilter -ExcludeFrom $ex -Rule '!'
            $g.Rules.Count | Should -Be 0
        }

        It '-GitIgnore translates a .gitignore: reversed, ! re-includes, slashes anchor' {
            $gi = Join-Path $TestDrive '.gitignore'
            Set-Content -LiteralPath $gi -Value '# build output', '/build/', '*.log', '!keep.log', 'doc/tmp', '**/cache'
            $f = New-SyncFilter -GitIgnore $gi
            @($f.Rules.Text) | Should -Be @('- cache', '- /doc/tmp', '+ keep.log', '- *.log', '- /build/')
            $f.Test('a/keep.log', $false) | Should -BeTrue
            $f.Test('a/x.log', $false) | Should -BeFalse
            $f.Test('build', $true) | Should -BeFalse
            $f.Test('src/build', $true) | Should -BeTrue
            $f.Explain('x/y/cache', $true).Line | Should -Be 6
            $f.Explain('x/y/cache', $true).Source | Should -Be $gi
        }

        It '-CvsExclude adds the CVS ignore list and a per-directory .cvsignore rule last' {
            $f = New-SyncFilter -CvsExclude -Include 'keep.o'
            $f.Rules[0].Text | Should -Be '+ keep.o'
            $f.Rules[-1].Text | Should -Be ':C .cvsignore'
            $f.Test('keep.o', $false) | Should -BeTrue
            $f.Test('main.o', $false) | Should -BeFalse
            $f.Test('CVS', $true) | Should -BeFalse
            $f.Explain('x.bak', $false).IsPerishable | Should -BeTrue
        }
    }

    Context 'malformed patterns' {
        It 'rejects <Pattern> given as -<Parameter> with a terminating InvalidFilterPattern error' -ForEach @(
            @{ Pattern = '[abc'; Parameter = 'Exclude' }
            @{ Pattern = 'x[!a'; Parameter = 'Exclude' }
            @{ Pattern = '[abc'; Parameter = 'Include' }
            @{ Pattern = '/'; Parameter = 'Exclude' }
        ) {
            $splat = @{ $Parameter = $Pattern }
            $out = $null
            $err = Get-TerminatingError { $out = New-SyncFilter @splat -ErrorAction SilentlyContinue }
            $err | Should -Not -BeNullOrEmpty
            $err.FullyQualifiedErrorId | Should -BeLike 'InvalidFilterPattern,*'
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.TargetObject | Should -Be $Pattern
            $out | Should -BeNullOrEmpty
        }

        It 'accepts a closed class and an escaped bracket' {
            { New-SyncFilter -Exclude '[abc]', '\[abc' -ErrorAction Stop } | Should -Not -Throw
            (New-SyncFilter -Exclude '\[abc').Test('[abc', $false) | Should -BeFalse
        }
    }
}
