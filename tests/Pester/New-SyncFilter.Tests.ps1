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
