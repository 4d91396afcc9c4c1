/**
 * ECharts, tree-shaken to what the app draws, with a light and a dark theme that match the CSS
 * variables in style.css.
 */
import { BarChart, HeatmapChart, LineChart, ScatterChart } from 'echarts/charts'
import {
  BrushComponent,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent
} from 'echarts/components'
import * as echarts from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'
import { SERIES_COLORS } from './echarts-colors'

echarts.use([
  LineChart,
  BarChart,
  ScatterChart,
  HeatmapChart,
  VisualMapComponent,
  BrushComponent,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  DataZoomComponent,
  MarkLineComponent,
  TitleComponent,
  CanvasRenderer
])

function theme(dark: boolean): object {
  const fg = dark ? '#e4e7ee' : '#1c2230'
  const muted = dark ? '#9aa3b4' : '#5b6474'
  const line = dark ? '#323846' : '#d5d9e0'
  const split = dark ? '#262b35' : '#eceef2'
  const axis = {
    axisLine: { lineStyle: { color: line } },
    axisTick: { lineStyle: { color: line } },
    axisLabel: { color: muted },
    splitLine: { lineStyle: { color: split } },
    nameTextStyle: { color: muted }
  }
  return {
    color: SERIES_COLORS,
    backgroundColor: 'transparent',
    textStyle: { color: fg },
    title: { textStyle: { color: fg }, subtextStyle: { color: muted } },
    legend: { textStyle: { color: fg }, pageTextStyle: { color: muted } },
    tooltip: {
      backgroundColor: dark ? '#262b35' : '#ffffff',
      borderColor: line,
      textStyle: { color: fg }
    },
    valueAxis: axis,
    categoryAxis: axis,
    logAxis: axis,
    timeAxis: axis,
    dataZoom: { textStyle: { color: muted }, borderColor: line }
  }
}

echarts.registerTheme('hist-light', theme(false))
echarts.registerTheme('hist-dark', theme(true))

export { echarts, SERIES_COLORS }
