"""The annual data-analysis report (人才培养工作状态数据分析报告), drafted from the warehouse.

One report for the college (the quality office's, for the leadership) and one per owning department (with its
self-diagnosis, 自我诊改), as editable Word documents and standalone HTML pages, from the same data as the national
tables: ``content`` collects the figures as plain data, ``document`` words them (Chinese) into headings, paragraphs,
tables and figures with a trace reference on every number, ``charts`` draws the charts, ``docx`` and ``html``
render the document, ``build`` writes the files and their manifest and lists what changed since the last draft.
What is configurable is data beside the code: ``areas.yaml`` (the report's areas and their figures),
``breakdowns.yaml`` (which grouping explains a moved indicator input) and the peer benchmarks
(``benchmarks_sample.csv``, or ``<college folder>/benchmarks.csv``). See docs/report.md.
"""
